// What PBS's jobs do when they run: prune (with lab's port of PBS's prune
// selection), verify (re-reads every file of a snapshot against its checksum
// and records the state in the snapshot), sync between two local datastores
// (the offsite stand-in), and garbage collection. Each is a PBS worker task
// whose log follows the wording of proxmox-backup's src/server/*.rs.
import { cpSync } from "node:fs";
import { selectPrune, type KeepOptions } from "../backup/prune.ts";
import type { SimContext } from "./context.ts";
import { corruptFiles, datastoreSnapshots, groupPath, removeSnapshot, snapshotDir, snapshotPath } from "./pbs-store.ts";
import type { Item, PbsSnapshot } from "./state.ts";
import type { TaskCtx } from "./tasks.ts";

const KEEP_KEYS = ["last", "hourly", "daily", "weekly", "monthly", "yearly"] as const;

export function keepOptions(cfg: Record<string, unknown>): KeepOptions {
  const out: Record<string, number> = {};
  for (const k of KEEP_KEYS) if (cfg[`keep-${k}`] !== undefined) out[k] = Number(cfg[`keep-${k}`]);
  return out;
}

function groups(list: readonly PbsSnapshot[]): Map<string, PbsSnapshot[]> {
  const out = new Map<string, PbsSnapshot[]>();
  for (const s of list) out.set(groupPath(s), [...(out.get(groupPath(s)) ?? []), s]);
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

export interface PruneResult {
  "backup-type": PbsSnapshot["backup-type"];
  "backup-id": string;
  "backup-time": number;
  keep: boolean;
}

/** prune_group / prune_datastore: oldest first ("delete older snapshots first"); removes unless dry-run. */
export function pruneGroup(
  sim: SimContext,
  store: string,
  list: readonly PbsSnapshot[],
  keep: KeepOptions,
  dryRun: boolean,
  log?: (l: string) => void,
): PruneResult[] {
  const decisions = selectPrune(
    list.map((s) => ({ s, time: s["backup-time"], finished: s.finished ?? true, protected: s.protected })),
    keep,
    sim.pbsTimeZone,
  ).reverse();
  return decisions.map(({ snapshot: { s }, mark }) => {
    const keepIt = mark !== "remove";
    log?.(
      `${dryRun ? "would " : ""}${keepIt ? "keep" : "remove"} ${snapshotPath(s)}${mark === "protected" ? " (protected)" : ""}`,
    );
    if (!keepIt && !dryRun) removeSnapshot(sim.state, sim.stateDir, store, s);
    // PBS's code adds `protected` too, but its published schema has no such field (additionalProperties: false): the schema wins.
    return {
      "backup-type": s["backup-type"],
      "backup-id": s["backup-id"],
      "backup-time": s["backup-time"],
      keep: keepIt,
    };
  });
}

export async function runPrune(sim: SimContext, store: string, cfg: Item, t: TaskCtx): Promise<void> {
  const keep = keepOptions(cfg);
  t.log(`Starting datastore prune on datastore '${store}', root namespace`);
  if (!KEEP_KEYS.some((k) => (keep[k] ?? 0) > 0)) {
    t.log("No prune selection - keeping all files.");
    return;
  }
  await t.step();
  for (const [group, list] of groups(datastoreSnapshots(sim.state, store))) {
    t.log(`Pruning group :"${group}"`);
    pruneGroup(sim, store, list, keep, false, t.log);
  }
}

/** verify_filter: with ignore-verified, only snapshots never verified, or verified more than outdated-after days ago. */
function needsVerify(s: PbsSnapshot, ignoreVerified: boolean, outdatedAfter: number | undefined, now: number): boolean {
  if (!ignoreVerified || !s.verification) return true;
  if (outdatedAfter === undefined) return false;
  const started = Number.parseInt(s.verification.upid.split(":")[5] ?? "0", 16);
  return Math.floor((now - started) / 86400) > outdatedAfter;
}

export interface VerifyOptions {
  ignoreVerified: boolean;
  outdatedAfter?: number;
  filter?: (s: PbsSnapshot) => boolean;
}

export async function runVerify(sim: SimContext, store: string, o: VerifyOptions, t: TaskCtx): Promise<void> {
  t.log(`verify datastore ${store}`);
  await t.step();
  const failed: string[] = [];
  const now = Math.floor(Date.now() / 1000);
  const list = datastoreSnapshots(sim.state, store).filter((s) => !o.filter || o.filter(s));
  for (const [group, snaps] of groups(list)) {
    t.log(`verify group ${store}:${group} (${snaps.length} snapshots)`);
    for (const s of [...snaps].sort((a, b) => b["backup-time"] - a["backup-time"])) {
      if (!needsVerify(s, o.ignoreVerified, o.outdatedAfter, now)) {
        t.log(`SKIPPED: verify ${store}:${snapshotPath(s)} (recently verified)`);
        continue;
      }
      t.log(`verify ${store}:${snapshotPath(s)}`);
      const bad = corruptFiles(sim.stateDir, store, s);
      for (const file of Object.keys(s.csum ?? {}))
        t.log(`  check ${file}${bad.includes(file) ? " - checksum mismatch" : ""}`);
      s.verification = { state: bad.length ? "failed" : "ok", upid: t.upid };
      if (bad.length) failed.push(`${store}:${snapshotPath(s)}`);
    }
  }
  if (failed.length) {
    t.log("Failed to verify the following snapshots/groups:");
    for (const f of failed) t.log(`\t${f}`);
    throw new Error("verification failed - please check the log for details");
  }
}

/** A local sync (no remote): pull `remote-store` into `store`, as PBS's pull from the local host does. */
export async function runSync(sim: SimContext, cfg: Item, t: TaskCtx): Promise<void> {
  const source = String(cfg["remote-store"]);
  const target = String(cfg.store);
  t.log(`Starting datastore sync job 'local:${source}' => '${target}'`);
  await t.step();
  const from = datastoreSnapshots(sim.state, source);
  const to = datastoreSnapshots(sim.state, target);
  const filters = (
    Array.isArray(cfg["group-filter"]) ? cfg["group-filter"] : cfg["group-filter"] ? [String(cfg["group-filter"])] : []
  ).map(String);
  const transferLast = cfg["transfer-last"] === undefined ? undefined : Number(cfg["transfer-last"]);
  const owner = String(cfg.owner ?? "root@pam");
  let synced = 0;
  for (const [group, snaps] of groups(from)) {
    if (filters.length && !filters.some((f) => groupMatches(f, group))) continue;
    t.log(`sync group ${group}`);
    let candidates = [...snaps].filter((s) => s.finished !== false).sort((a, b) => a["backup-time"] - b["backup-time"]);
    if (cfg["verified-only"] === true || cfg["verified-only"] === 1)
      candidates = candidates.filter((s) => s.verification?.state === "ok");
    if (transferLast !== undefined) candidates = candidates.slice(-transferLast);
    for (const s of candidates) {
      if (to.some((x) => snapshotPath(x) === snapshotPath(s))) continue;
      t.log(`sync snapshot ${snapshotPath(s)}`);
      cpSync(snapshotDir(sim.stateDir, source, s), snapshotDir(sim.stateDir, target, s), { recursive: true });
      const { verification: _v, ...copy } = structuredClone(s);
      to.push({ ...copy, owner });
      synced++;
    }
  }
  if (cfg["remove-vanished"] === true || cfg["remove-vanished"] === 1) {
    for (const s of [...to]) {
      if (from.some((x) => snapshotPath(x) === snapshotPath(s))) continue;
      if (s.protected) {
        t.log(`don't delete vanished snapshot ${snapshotPath(s)} (protected)`);
        continue;
      }
      t.log(`delete vanished snapshot ${snapshotPath(s)}`);
      removeSnapshot(sim.state, sim.stateDir, target, s);
    }
  }
  t.log(`Finished syncing namespace , current progress: ${synced} snapshots`);
}

/** group-filter: `type:vm`, `group:vm/100`, `regex:...` (exclude: not supported, as before PBS 3.1). */
function groupMatches(filter: string, group: string): boolean {
  const [kind, value = ""] = filter.split(/:(.*)/s);
  if (kind === "type") return group.startsWith(`${value}/`);
  if (kind === "group") return group === value;
  if (kind === "regex") return new RegExp(value).test(group);
  return false;
}

export async function runGc(sim: SimContext, store: string, t: TaskCtx): Promise<void> {
  t.log(`starting garbage collection on store ${store}`);
  t.log("Start GC phase1 (mark used chunks)");
  await t.step();
  t.log("Start GC phase2 (sweep unused chunks)");
  const list = datastoreSnapshots(sim.state, store);
  const gc = (sim.state.pbs.gc[store] ??= { pendingBytes: 0 });
  const used = list.reduce((n, s) => n + s.size, 0);
  t.log(`Removed garbage: ${gc.pendingBytes} B`);
  t.log(`Original data usage: ${used} B`);
  gc.last = {
    "index-file-count": list.reduce((n, s) => n + s.files.length, 0),
    "index-data-bytes": used,
    "disk-bytes": used,
    "disk-chunks": list.length,
    "removed-bytes": gc.pendingBytes,
    "removed-chunks": gc.pendingBytes ? 1 : 0,
    "pending-bytes": 0,
    "pending-chunks": 0,
    "removed-bad": 0,
    "still-bad": 0,
  };
  gc.pendingBytes = 0;
}
