// PBS datastores: snapshots with their files on disk (<stateDir>/pbs/<store>/
// <type>/<id>/<RFC3339 time>/), each file's SHA-256 in the snapshot record so
// verify can find a flipped byte; and how a `pbs` storage shows them to PVE:
// backup volumes `<storage>:backup/<type>/<id>/<RFC3339 time>`.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SimError } from "./errors.ts";
import { pbsStorageSees } from "./pbs-acl.ts";
import type { PbsSnapshot, SimState, Volume } from "./state.ts";

export const pbsTime = (epoch: number): string => new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

/** `vm/100/2026-01-01T02:00:00Z`: PBS's snapshot path, relative to the datastore. */
export const snapshotPath = (s: PbsSnapshot): string =>
  `${s["backup-type"]}/${s["backup-id"]}/${pbsTime(s["backup-time"])}`;
export const groupPath = (s: PbsSnapshot): string => `${s["backup-type"]}/${s["backup-id"]}`;

export const snapshotDir = (stateDir: string, store: string, s: PbsSnapshot): string =>
  join(stateDir, "pbs", store, snapshotPath(s));

export function datastoreSnapshots(state: SimState, store: string): PbsSnapshot[] {
  if (!state.pbs.datastores[store]) throw new SimError(400, `datastore '${store}' does not exist`);
  return (state.pbs.snapshots[store] ??= []);
}

/** Write a snapshot's files (atomically each) and record their checksums. */
export function writeSnapshotFiles(
  stateDir: string,
  store: string,
  s: PbsSnapshot,
  files: Record<string, Buffer | string>,
): void {
  const dir = snapshotDir(stateDir, store, s);
  mkdirSync(dir, { recursive: true });
  s.csum ??= {};
  for (const [name, data] of Object.entries(files)) {
    writeFileSync(join(dir, `${name}.tmp`), data);
    renameSync(join(dir, `${name}.tmp`), join(dir, name));
    s.csum[name] = createHash("sha256").update(data).digest("hex");
  }
}

/** Move a file (e.g. a filesystem tar written next to it) into the snapshot and record its checksum. */
export function adoptSnapshotFile(stateDir: string, store: string, s: PbsSnapshot, name: string, from: string): void {
  const dir = snapshotDir(stateDir, store, s);
  mkdirSync(dir, { recursive: true });
  renameSync(from, join(dir, name));
  (s.csum ??= {})[name] = createHash("sha256")
    .update(readFileSync(join(dir, name)))
    .digest("hex");
}

export const snapshotFile = (stateDir: string, store: string, s: PbsSnapshot, name: string): string | undefined => {
  const file = join(snapshotDir(stateDir, store, s), name);
  return s.csum?.[name] && existsSync(file) ? file : undefined;
};

/** Files whose content no longer matches the recorded checksum (or that are gone). */
export function corruptFiles(stateDir: string, store: string, s: PbsSnapshot): string[] {
  const dir = snapshotDir(stateDir, store, s);
  return Object.entries(s.csum ?? {})
    .filter(([name, sum]) => {
      const file = join(dir, name);
      return !existsSync(file) || createHash("sha256").update(readFileSync(file)).digest("hex") !== sum;
    })
    .map(([name]) => name);
}

/** Remove a snapshot and its directory; its data becomes garbage for the next GC. */
export function removeSnapshot(state: SimState, stateDir: string, store: string, s: PbsSnapshot): void {
  const list = datastoreSnapshots(state, store);
  const i = list.indexOf(s);
  if (i >= 0) list.splice(i, 1);
  rmSync(snapshotDir(stateDir, store, s), { recursive: true, force: true });
  const gc = (state.pbs.gc[store] ??= { pendingBytes: 0 });
  gc.pendingBytes += s.size;
}

/** What GET .../snapshots shows of a snapshot (no internal bookkeeping). */
export const publicSnapshot = ({
  config: _c,
  finished: _f,
  csum: _s,
  ...s
}: PbsSnapshot): Omit<PbsSnapshot, "config" | "finished" | "csum"> => s;

export function pbsSnapshotVolumes(state: SimState, sid: string): Volume[] {
  const datastore = String(state.storage[sid]?.datastore ?? "");
  // PVE lists them logged in as the storage's token: only what it may see.
  return (state.pbs.snapshots[datastore] ?? [])
    .filter((s) => pbsStorageSees(state, sid, s.owner))
    .map((s) => ({
      volid: `${sid}:backup/${snapshotPath(s)}`,
      content: "backup",
      format: `pbs-${s["backup-type"]}`,
      size: s.size,
      ctime: s["backup-time"],
      vmid: Number(s["backup-id"]),
      ...(s.comment ? { notes: s.comment } : {}),
      ...(s.protected ? { protected: 1 as const } : {}),
      ...(s.fingerprint ? { encrypted: s.fingerprint } : {}),
      ...(s.verification ? { verification: s.verification } : {}),
      backup: { config: s.config, pbs: { store: datastore, path: snapshotPath(s) } },
    }));
}
