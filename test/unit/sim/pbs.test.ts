// The PBS side of the simulator and PVE's backup endpoints: encrypted pbs
// storage, backup job validation, vzdump into PBS, prune/verify/sync jobs,
// GC, and every call checked against the official PBS schema.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computePruneInfo } from "../../../src/backup/prune.ts";
import { checkCalls } from "../../../src/proxmox/conformance.ts";
import { pbsSchema } from "../../../src/proxmox/schema.ts";
import type { RecordedCall } from "../../../src/proxmox/transport.ts";
import { snapshotDir, writeSnapshotFiles } from "../../../src/sim/pbs-store.ts";
import type { PbsSnapshot } from "../../../src/sim/state.ts";
import { type Reply, type TestSim, createVm, runTask, startTestSim } from "./helpers.ts";

let t: TestSim;
const calls: RecordedCall[] = [];

beforeAll(async () => {
  t = await startTestSim({ pbsTimeZone: "Europe/Berlin" });
});
afterAll(async () => {
  await t.close();
});

/** A PBS call (PBSAPIToken header), recorded for the conformance check at the end. */
async function pbs(method: string, path: string, params: Record<string, unknown> = {}): Promise<Reply> {
  const r = await t.call(method, path, params, {
    base: t.sim.pbsUrl!,
    headers: { Authorization: `PBSAPIToken=${t.sim.tokenId}:${t.sim.tokenSecret}` },
  });
  const values = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
  calls.push({
    method,
    path: new URL(path, "https://x").pathname,
    keys: Object.keys(params),
    status: r.status,
    product: "pbs",
    values,
    ...(r.status === 200 ? { reply: r.body.data } : {}),
  });
  return r;
}
async function pbsOk<T = unknown>(method: string, path: string, params: Record<string, unknown> = {}): Promise<T> {
  const r = await pbs(method, path, params);
  if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${r.raw}`);
  return r.body.data as T;
}
async function pbsTask(upid: string): Promise<{ exitstatus: string; log: string[] }> {
  for (;;) {
    const s = await pbsOk<{ status: string; exitstatus?: string }>(
      "GET",
      `/nodes/localhost/tasks/${encodeURIComponent(upid)}/status`,
    );
    if (s.status === "stopped") {
      const log = await pbsOk<{ t: string }[]>("GET", `/nodes/localhost/tasks/${encodeURIComponent(upid)}/log`, {
        limit: 0,
      });
      return { exitstatus: s.exitstatus!, log: log.map((l) => l.t.replace(/^\S+: /, "")) };
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}
const times = async (store: string, id?: string): Promise<string[]> =>
  (
    await pbsOk<{ "backup-time": number }[]>(
      "GET",
      `/admin/datastore/${store}/snapshots`,
      id ? { "backup-type": "vm", "backup-id": id } : {},
    )
  )
    .map((s) => new Date(s["backup-time"] * 1000).toISOString().replace(".000", ""))
    .sort();

/** Backups made in the past: a datastore's history is seeded directly (a clock cannot be turned back through the API). */
function seed(store: string, id: string, isoTimes: string[], extra: Partial<PbsSnapshot> = {}): PbsSnapshot[] {
  return isoTimes.map((iso) => {
    const s: PbsSnapshot = {
      "backup-type": "vm",
      "backup-id": id,
      "backup-time": Date.parse(iso) / 1000,
      files: ["qemu-server.conf.blob", "index.json.blob"],
      size: 1000,
      owner: "root@pam",
      protected: false,
      config: { name: `vm${id}` },
      finished: true,
      ...extra,
    };
    writeSnapshotFiles(t.dir, store, s, { "qemu-server.conf.blob": `name: vm${id}\n`, "index.json.blob": "{}" });
    t.sim.state.pbs.snapshots[store]!.push(s);
    return s;
  });
}

describe("pbs storage with an encryption key", () => {
  const base = () => ({
    type: "pbs",
    server: "127.0.0.1",
    datastore: "backup",
    username: "root@pam!lab",
    password: t.sim.tokenSecret,
    fingerprint: t.sim.fingerprint,
  });

  it("autogen: the key is returned once by create, storage.cfg keeps only its fingerprint", async () => {
    const r = await t.ok<{ storage: string; config: { "encryption-key": string } }>("POST", "/storage", {
      ...base(),
      storage: "pbs",
      "encryption-key": "autogen",
    });
    const key = JSON.parse(r.config["encryption-key"]) as { data: string; fingerprint: string };
    expect(key.fingerprint).toMatch(/^([0-9a-f]{2}:){31}[0-9a-f]{2}$/);
    const cfg = await t.ok<Record<string, unknown>>("GET", "/storage/pbs");
    expect(cfg["encryption-key"]).toBe(key.fingerprint);
    expect(JSON.stringify(cfg)).not.toContain(key.data);
    expect(cfg).not.toHaveProperty("password");
  });

  it("refuses a key that is not a PBS key file, and a master key without a key", async () => {
    expect(
      (await t.call("POST", "/storage", { ...base(), storage: "pbs2", "encryption-key": "secret" })).statusText,
    ).toBe("Value does not seems like a valid, JSON formatted encryption key!");
    expect((await t.call("POST", "/storage", { ...base(), storage: "pbs2", "master-pubkey": "AAAA" })).statusText).toBe(
      "'master-pubkey' can only be used together with 'encryption-key'",
    );
  });
});

describe("backup jobs: PVE's parameter checks", () => {
  const job = { schedule: "sat 02:30", storage: "pbs", mode: "snapshot" };
  it.each([
    [{ all: 1, vmid: "100" }, { all: "option conflicts with option 'vmid'" }],
    [{ exclude: "101", vmid: "100" }, { exclude: "option conflicts with option 'vmid'" }],
    [{ pool: "lab", vmid: "100" }, { pool: "option conflicts with option 'vmid'" }],
    [{}, { vmid: "property is missing" }],
    [
      { vmid: "100", "prune-backups": "keep-all=1,keep-daily=7" },
      { "prune-backups": "keep-all cannot be set together with other options." },
    ],
  ])("%j -> 400 %j", async (sel, errors) => {
    const r = await t.call("POST", "/cluster/backup", { ...job, id: "j1", ...sel });
    expect([r.status, r.body.errors]).toEqual([400, errors]);
  });

  it("checks the schedule, the prune-backups string and the storage", async () => {
    expect(
      (await t.call("POST", "/cluster/backup", { ...job, id: "j1", vmid: "100", schedule: "every night" })).body.errors,
    ).toEqual({ schedule: "invalid format - unable to parse calendar event 'every night'\n" });
    expect(
      (await t.call("POST", "/cluster/backup", { ...job, id: "j1", vmid: "100", "prune-backups": "keep-daily=0" })).body
        .errors,
    ).toHaveProperty("prune-backups");
    expect(
      (await t.call("POST", "/cluster/backup", { ...job, id: "j1", vmid: "100", storage: "nope" })).statusText,
    ).toBe("storage 'nope' does not exist");
  });

  it("all + exclude, then an update that would conflict", async () => {
    await t.ok("POST", "/cluster/backup", {
      ...job,
      id: "nightly",
      all: 1,
      exclude: "999",
      "prune-backups": "keep-daily=7,keep-weekly=4,keep-monthly=3",
      "notes-template": "{{guestname}} on {{node}}",
    });
    expect(await t.ok("GET", "/cluster/backup/nightly")).toMatchObject({
      all: 1,
      exclude: "999",
      "prune-backups": { "keep-daily": 7, "keep-weekly": 4, "keep-monthly": 3 },
    });
    expect((await t.call("PUT", "/cluster/backup/nightly", { vmid: "100" })).body.errors).toEqual({
      all: "option conflicts with option 'vmid'",
    });
    await t.ok("PUT", "/cluster/backup/nightly", { vmid: "100", delete: "all,exclude" });
    expect(await t.ok("GET", "/cluster/backup/nightly")).toMatchObject({ vmid: "100" });
  });
});

describe("vzdump into PBS", () => {
  it("stores an encrypted snapshot with its config, listed on both sides, and restores it", async () => {
    await createVm(t, 100);
    const r = await runTask(t, "POST", "/nodes/pve/vzdump", {
      vmid: "100",
      storage: "pbs",
      "notes-template": "{{guestname}}",
    });
    expect(r.exitstatus).toBe("OK");
    expect(r.log).toContain("INFO: enabling encryption");
    expect(r.log.find((l) => l.startsWith("INFO: creating Proxmox Backup Server archive 'vm/100/"))).toBeDefined();
    const [vol] = await t.ok<{ volid: string; encrypted: string; notes: string }[]>(
      "GET",
      "/nodes/pve/storage/pbs/content",
      { content: "backup" },
    );
    expect(vol!.encrypted).toBe((await t.ok<Record<string, string>>("GET", "/storage/pbs"))["encryption-key"]);
    const [snap] = await pbsOk<{ "backup-time": number; fingerprint: string; files: string[] }[]>(
      "GET",
      "/admin/datastore/backup/snapshots",
    );
    expect(snap!.fingerprint).toBe(vol!.encrypted);
    const dir = snapshotDir(t.dir, "backup", t.sim.state.pbs.snapshots.backup![0]!);
    expect(readFileSync(join(dir, "qemu-server.conf.blob"), "utf8")).toContain("name: vm100\n");

    const restore = await runTask(t, "POST", "/nodes/pve/qemu", {
      vmid: 200,
      archive: vol!.volid,
      storage: "local-lvm",
      unique: 1,
    });
    expect(restore.exitstatus).toBe("OK");
    expect(restore.log[0]).toBe(`restore proxmox backup image: ${vol!.volid}`);
    expect(await t.ok("GET", "/nodes/pve/qemu/200/config")).toMatchObject({ name: "vm100" });
  });
});

/** PBS backup times are whole seconds: wait until a new backup cannot collide with the newest one. */
async function nextSecond(): Promise<void> {
  const last = Math.max(...t.sim.state.pbs.snapshots.backup!.map((s) => s["backup-time"]));
  while (Math.floor(Date.now() / 1000) <= last) await new Promise((r) => setTimeout(r, 50));
}

describe("vzdump prunes after the backup, as VZDump.pm does", () => {
  it("with the job's prune-backups (PBS's selection), and not with remove=0", async () => {
    seed("backup", "100", ["2026-01-01T02:00:00Z", "2026-01-02T02:00:00Z", "2026-01-03T02:00:00Z"]);
    await nextSecond();
    const kept = await runTask(t, "POST", "/nodes/pve/vzdump", {
      vmid: "100",
      storage: "pbs",
      "prune-backups": "keep-last=2",
      remove: 0,
    });
    expect(kept.log.some((l) => l.startsWith("INFO: prune"))).toBe(false);
    expect(await times("backup", "100")).toHaveLength(5);
    await nextSecond();
    const r = await runTask(t, "POST", "/nodes/pve/vzdump", {
      vmid: "100",
      storage: "pbs",
      "prune-backups": "keep-last=2",
    });
    expect(r.exitstatus).toBe("OK");
    expect(r.log).toContain("INFO: prune older backups with retention: keep-last=2");
    expect(r.log).toContain("INFO: pruned 4 backup(s) not covered by keep-retention policy");
    const left = await times("backup", "100");
    expect(left).toHaveLength(2);
    expect(left.every((x) => !x.startsWith("2026-01-0"))).toBe(true);
  });
});

describe("PBS jobs", () => {
  it("a prune job removes what the PBS selection removes, in the server's time zone", async () => {
    // Europe/Berlin, 2026-10-25: 00:30Z (02:30 CEST) and 01:30Z (02:30 CET) are one local hour.
    const list = ["2026-10-24T23:30:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z", "2026-10-25T02:30:00Z"];
    seed("backup", "301", list);
    seed("backup", "302", ["2026-01-01T02:00:00Z", "2026-01-02T02:00:00Z", "2026-01-03T02:00:00Z"], {});
    expect(
      (await pbs("POST", "/config/prune", { id: "hourly3", store: "backup", schedule: "daily", "keep-hourly": 0 }))
        .status,
    ).toBe(400);
    await pbsOk("POST", "/config/prune", {
      id: "hourly3",
      store: "backup",
      schedule: "daily",
      "keep-hourly": 3,
      comment: "lab",
    });
    expect((await pbs("POST", "/config/prune", { id: "hourly3", store: "backup", schedule: "daily" })).raw).toBe(
      "job 'hourly3' already exists.",
    );
    const before = t.sim.state.pbs.snapshots.backup!.filter((s) => s["backup-id"] === "302");

    const run = await pbsTask(await pbsOk<string>("POST", "/admin/prune/hourly3/run"));
    expect(run.exitstatus).toBe("OK");
    expect(run.log).toContain("remove vm/301/2026-10-25T00:30:00Z");
    expect(await times("backup", "301")).toEqual([
      "2026-10-24T23:30:00Z",
      "2026-10-25T01:30:00Z",
      "2026-10-25T02:30:00Z",
    ]);
    // The other group: the very selection PBS computes (hourly in Berlin: three different hours, all kept).
    const expected = computePruneInfo(
      before.map((s) => ({ ...s, time: s["backup-time"], finished: true })),
      { hourly: 3 },
      "Europe/Berlin",
    ).filter((d) => d.mark !== "remove").length;
    expect(await times("backup", "302")).toHaveLength(expected);
    const [status] = await pbsOk<Record<string, unknown>[]>("GET", "/admin/prune", { store: "backup" });
    expect(status).toMatchObject({ id: "hourly3", "keep-hourly": 3, "last-run-state": "OK" });
    expect(status!["last-run-upid"]).toMatch(
      /^UPID:localhost:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:prunejob:backup\\x3ahourly3:root@pam!lab:$/,
    );
  });

  it("an ad-hoc group prune with dry-run reports and keeps everything", async () => {
    const r = await pbsOk<{ "backup-time": number; keep: boolean }[]>("POST", "/admin/datastore/backup/prune", {
      "backup-type": "vm",
      "backup-id": "302",
      "keep-last": 1,
      "dry-run": 1,
    });
    expect(r.map((x) => x.keep)).toEqual([false, false, true]);
    expect(await times("backup", "302")).toHaveLength(3);
  });

  it("verify marks snapshots ok, finds a flipped byte, and honours ignore-verified and outdated-after", async () => {
    await pbsOk("POST", "/config/verify", {
      id: "weekly",
      store: "backup",
      schedule: "sat 05:00",
      "ignore-verified": 1,
      "outdated-after": 30,
    });
    const first = await pbsTask(await pbsOk<string>("POST", "/admin/verify/weekly/run"));
    expect(first.exitstatus).toBe("OK");
    const snaps = await pbsOk<{ "backup-id": string; verification?: { state: string; upid: string } }[]>(
      "GET",
      "/admin/datastore/backup/snapshots",
    );
    expect(snaps.every((s) => s.verification?.state === "ok")).toBe(true);

    const victim = t.sim.state.pbs.snapshots.backup!.find((s) => s["backup-id"] === "302")!;
    const file = join(snapshotDir(t.dir, "backup", victim), "qemu-server.conf.blob");
    const bytes = readFileSync(file);
    bytes[0] = bytes[0]! ^ 0x01;
    writeFileSync(file, bytes);
    // Verified a moment ago, so ignore-verified with outdated-after=30 skips it.
    const skipped = await pbsTask(await pbsOk<string>("POST", "/admin/verify/weekly/run"));
    expect([skipped.exitstatus, skipped.log.filter((l) => l.startsWith("SKIPPED")).length]).toEqual([
      "OK",
      snaps.length,
    ]);
    // A verification 40 days old is outdated: verified again, and the flipped byte fails it.
    victim.verification = {
      state: "ok",
      upid: victim.verification!.upid.replace(
        /^((?:[^:]*:){5})[0-9A-F]{8}/,
        `$1${(Math.floor(Date.now() / 1000) - 40 * 86400).toString(16).toUpperCase()}`,
      ),
    };
    const again = await pbsTask(await pbsOk<string>("POST", "/admin/verify/weekly/run"));
    expect(again.exitstatus).toBe("verification failed - please check the log for details");
    expect(again.log).toContain("  check qemu-server.conf.blob - checksum mismatch");
    const states = await pbsOk<{ "backup-time": number; verification: { state: string } }[]>(
      "GET",
      "/admin/datastore/backup/snapshots",
      { "backup-type": "vm", "backup-id": "302" },
    );
    expect(states.find((s) => s["backup-time"] === victim["backup-time"])!.verification.state).toBe("failed");
    const content = await t.ok<{ volid: string; verification?: { state: string } }[]>(
      "GET",
      "/nodes/pve/storage/pbs/content",
      { vmid: 302 },
    );
    expect(content.filter((v) => v.verification?.state === "failed")).toHaveLength(1);
    expect((await pbsOk<Record<string, unknown>[]>("GET", "/admin/verify"))[0]).toMatchObject({
      id: "weekly",
      "last-run-state": "verification failed - please check the log for details",
    });
  });

  it("syncs to a second datastore (the offsite stand-in): once, then nothing; remove-vanished follows a prune", async () => {
    expect(
      (
        await pbsTask(
          await pbsOk<string>("POST", "/config/datastore", { name: "offsite", path: "/mnt/datastore/offsite" }),
        )
      ).exitstatus,
    ).toBe("OK");
    await pbsOk("POST", "/config/sync", {
      id: "offsite",
      store: "offsite",
      "remote-store": "backup",
      schedule: "hourly",
      "remove-vanished": 1,
      "group-filter": "type:vm",
    });
    const first = await pbsTask(await pbsOk<string>("POST", "/admin/sync/offsite/run"));
    expect(first.exitstatus).toBe("OK");
    expect(await times("offsite")).toEqual(await times("backup"));
    const second = await pbsTask(await pbsOk<string>("POST", "/admin/sync/offsite/run"));
    expect(second.log.filter((l) => l.startsWith("sync snapshot"))).toEqual([]);

    await pbsOk("DELETE", "/admin/datastore/backup/snapshots", {
      "backup-type": "vm",
      "backup-id": "302",
      "backup-time": Date.parse("2026-01-01T02:00:00Z") / 1000,
    });
    const third = await pbsTask(await pbsOk<string>("POST", "/admin/sync/offsite/run"));
    expect(third.log).toContain("delete vanished snapshot vm/302/2026-01-01T02:00:00Z");
    expect(await times("offsite")).toEqual(await times("backup"));
  });

  it("GC: the schedule is datastore config; a run sweeps what prunes left behind", async () => {
    await pbsOk("PUT", "/config/datastore/backup", { "gc-schedule": "sun 03:00" });
    expect(await pbsOk("GET", "/config/datastore/backup")).toMatchObject({
      name: "backup",
      "gc-schedule": "sun 03:00",
    });
    const pending = t.sim.state.pbs.gc.backup!.pendingBytes;
    expect(pending).toBeGreaterThan(0);
    const run = await pbsTask(await pbsOk<string>("POST", "/admin/datastore/backup/gc"));
    expect(run.log).toContain(`Removed garbage: ${pending} B`);
    expect(await pbsOk("GET", "/admin/datastore/backup/gc")).toMatchObject({
      store: "backup",
      schedule: "sun 03:00",
      "removed-bytes": pending,
      "last-run-state": "OK",
    });
  });

  it("keeps jobs across a restart; job CRUD ends in 404 for a gone job", async () => {
    await t.restart();
    expect((await pbsOk<{ id: string }[]>("GET", "/config/prune")).map((j) => j.id)).toEqual(["hourly3"]);
    await pbsOk("PUT", "/config/prune/hourly3", { "keep-daily": 7, delete: "keep-hourly" });
    expect(await pbsOk("GET", "/config/prune/hourly3")).toEqual({
      id: "hourly3",
      store: "backup",
      schedule: "daily",
      comment: "lab",
      "keep-daily": 7,
    });
    await pbsOk("DELETE", "/config/prune/hourly3");
    const gone = await pbs("GET", "/config/prune/hourly3");
    expect([gone.status, gone.raw]).toEqual([404, "job 'hourly3' does not exist."]);
  });

  it("every PBS call made here conforms to the official PBS schema", () => {
    expect(calls.length).toBeGreaterThan(30);
    // Values and replies included (checkCalls checks both).
    expect(calls.filter((c) => "reply" in c).length).toBeGreaterThan(20);
    expect(checkCalls(calls, pbsSchema())).toEqual([]);
  });
});
