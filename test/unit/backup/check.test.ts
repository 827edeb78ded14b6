// The nightly check over a scripted database host and Proxmox API: what it asks,
// what it concludes, and which backups `--run` takes.
import { describe, expect, it } from "vitest";
import { checkBackups, pgScheduleGap, type BackupEnv } from "../../../src/backup/check.ts";
import type { BackupPolicy, VmPolicy } from "../../../src/backup/policy.ts";
import { UnreachableError } from "../../../src/errors.ts";
import { fakePve } from "../proxmox/fake-pve.ts";
import { framed, fx, pgPolicy, vmPolicy } from "./fixtures.ts";

const pg = pgPolicy();
const vm = vmPolicy();
const policy: BackupPolicy = { file: "p.yaml", postgres: [pg], vms: [vm], targets: [pg, vm], where: () => undefined };
const framedOk = () => {
  const sql = JSON.stringify({
    archiver: {
      ...(JSON.parse(fx("pg-stat-archiver-recovered.json")) as object),
      last_archived_wal: "000000010000000000000007",
      failed_count: 0,
      last_failed_time: null,
      last_failed_wal: null,
    },
    oldest_ready_time: null,
    current_wal: "000000010000000000000008",
  });
  return framed([
    ["sql", sql, 0],
    ["info", fx("info-two-repos-ok.json"), 0],
    ["check", "", 0],
    ["ls1", fx("repo-ls-archive-repo1.json"), 0],
    ["ls2", fx("repo-ls-archive-repo2.json"), 0],
  ]);
};

function env(now: Date, opts: { dbDown?: boolean; backups?: { vmid: number; ctime: number }[]; vmNode?: string } = {}) {
  const vmNode = opts.vmNode ?? "pve";
  const commands: string[] = [];
  const backups = opts.backups ?? [{ vmid: 201, ctime: now.getTime() / 1000 - 3600 }];
  const api = fakePve({
    // The index may lag (pvestatd's cycle): name and template are read from the node's own list.
    "GET /cluster/resources": [
      { type: "qemu", vmid: 201, name: "(lagging)", node: vmNode },
      { type: "qemu", vmid: 9000, name: "trusted1", node: "pve", template: 1 },
    ],
    "GET /nodes/pve/qemu": [
      ...(vmNode === "pve" ? [{ vmid: 201, name: "trusted1", status: "running" }] : []),
      { vmid: 9000, name: "trusted1", status: "stopped", template: 1 },
    ],
    ...(vmNode === "pve"
      ? {}
      : { [`GET /nodes/${vmNode}/qemu`]: [{ vmid: 201, name: "trusted1", status: "running" }] }),
    "GET /nodes/pve/storage/pbs-lab/content": backups.map((b) => ({
      ...b,
      volid: `pbs-lab:backup/vm/${b.vmid}/${b.ctime}`,
      format: "pbs-vm",
      size: 1,
    })),
  });
  const e: BackupEnv = {
    inventory: {
      hosts: new Map(),
      lab: { proxmox: { pve1: { node: "pve" } }, vlans: {}, templates: {}, vms: {} },
    } as unknown as BackupEnv["inventory"],
    policy,
    now: () => now,
    exec: (host, command) => {
      commands.push(`${host}: ${command.split("\n")[0]!}`);
      if (opts.dbDown) return Promise.reject(new UnreachableError(host, "connection refused"));
      return Promise.resolve({
        code: 0,
        stdout: command.includes("echo @@lab-backup:sql") ? framedOk() : "",
        stderr: "",
      });
    },
    pve: () => Promise.resolve(api),
  };
  return { e, commands, calls: api.calls };
}

describe("lab backup (the check)", () => {
  it("is green when everything is fresh, with one round trip to the database host", async () => {
    const { e, commands, calls } = env(new Date("2026-12-01T20:24:30Z"));
    const r = await checkBackups(e);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(commands).toHaveLength(1);
    expect(calls).toEqual([
      ["GET", "/cluster/resources", { type: "vm" }],
      ["GET", "/nodes/pve/qemu"],
      ["GET", "/nodes/pve/storage/pbs-lab/content", { content: "backup" }],
    ]);
  });

  it("--run takes the backups that are due: a diff per stale repository, a vzdump of stale VMs", async () => {
    const now = new Date("2026-12-05T20:24:30Z");
    const { e, commands, calls } = env(now, { backups: [{ vmid: 201, ctime: now.getTime() / 1000 - 3 * 86_400 }] });
    await checkBackups(e, { run: true });
    expect(commands.filter((c) => c.includes("backup") && !c.includes("@@"))).toEqual([
      "db1: runuser -u postgres -- pgbackrest --stanza=main --repo=1 --type=diff backup",
      "backup1: runuser -u pgbackrest -- pgbackrest --stanza=main --repo=2 --type=diff backup",
    ]);
    expect(calls).toContainEqual(["POST", "/nodes/pve/vzdump", { vmid: "201", storage: "pbs-lab", mode: "snapshot" }]);
    expect(calls).toContainEqual(["wait", "vzdump of trusted1"]);
  });

  it("--run runs vzdump on the node the VM lives on (a cluster: vzdump backs up its own node's guests)", async () => {
    const now = new Date("2026-12-05T20:24:30Z");
    const backups = [{ vmid: 201, ctime: now.getTime() / 1000 - 3 * 86_400 }];
    const { e, calls } = env(now, { backups, vmNode: "pve2" });
    await checkBackups(e, { run: true });
    expect(calls.filter((c) => c[1].endsWith("/vzdump"))).toEqual([
      ["POST", "/nodes/pve2/vzdump", { vmid: "201", storage: "pbs-lab", mode: "snapshot" }],
    ]);
  });

  it("--run runs the offsite sync job when the offsite copy lacks a VM's newest backup; without --run it is a breach", async () => {
    const now = new Date("2026-12-01T20:24:30Z");
    const ctime = now.getTime() / 1000 - 3600;
    const withOffsite: VmPolicy = { ...vm, offsite: { datastore: "offsite", schedule: "04:00" } };
    const synced: string[] = [];
    const offsite: Record<number, number[]> = { 201: [ctime - 86_400] };
    const make = () => {
      const { e } = env(now, { backups: [{ vmid: 201, ctime }] });
      return {
        ...e,
        policy: { ...policy, vms: [withOffsite], targets: [pg, withOffsite] },
        offsiteSnapshots: () => Promise.resolve(structuredClone(offsite)),
        runOffsiteSync: (t: VmPolicy) => (
          synced.push(t.name),
          (offsite[201] = [...offsite[201]!, ctime]),
          Promise.resolve()
        ),
      } satisfies BackupEnv;
    };
    const stale = await checkBackups(make(), { targets: ["vms"] });
    expect(synced).toEqual([]);
    expect(stale.ok).toBe(true); // yesterday's copy is within the schedule's allowance
    offsite[201] = [];
    const missing = await checkBackups(make(), { targets: ["vms"] });
    expect(missing.problems).toEqual([
      "vms: VM trusted1 has no copy in the offsite datastore offsite: check the PBS sync job",
    ]);
    expect(synced).toEqual([]);
    const ran = await checkBackups(make(), { targets: ["vms"], run: true });
    expect(synced).toEqual(["vms"]);
    expect(ran.ok).toBe(true);
    const again = await checkBackups(make(), { targets: ["vms"], run: true });
    expect(synced).toEqual(["vms"]); // up to date: not run again
    expect(again.ok).toBe(true);
  });

  it("an unreachable database host is a breach naming the host and cause; other targets are still checked", async () => {
    const { e } = env(new Date("2026-12-01T20:24:30Z"), { dbDown: true });
    const r = await checkBackups(e, { targets: ["db1-main", "vms"] });
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(["db1-main: cannot check: db1 unreachable: connection refused"]);
    expect(r.targets.find((t) => t.target === "vms")?.verdict).toBe("ok");
  });

  it("the schedule gap merges full and differential runs", () => {
    expect(pgScheduleGap(pg, new Date("2026-12-01T00:00:00Z"))).toBe(86_400);
    expect(pgScheduleGap({ ...pg, schedule: { full: "0 1 * * 0" } }, new Date("2026-12-01T00:00:00Z"))).toBe(
      7 * 86_400,
    );
  });
});
