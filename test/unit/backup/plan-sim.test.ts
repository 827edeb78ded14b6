// `lab backup plan` (the real CLI) against the simulator: snapshots made by real
// vzdump calls into its PBS, the plan computed from the PBS's own listing with
// the policy's retention, and checked against what the PBS prune job then removes.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupPlan } from "../../../src/backup/plan.ts";
import { createVm, runTask, startTestSim, type TestSim } from "../sim/helpers.ts";

const BIN = resolve(import.meta.dirname, "../../../bin/lab.mjs");
let t: TestSim;
let root = "";
const env = () => ({ ...process.env, LAB_AGE_KEY_FILE: join(root, "age.key") });

function lab(args: string[], stdin = ""): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile("node", [BIN, "-C", root, ...args], { env: env(), timeout: 60_000 }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(stdin);
  });
}

const pbsAuth = () => ({
  base: t.sim.pbsUrl!,
  headers: { Authorization: `PBSAPIToken=${t.sim.tokenId}:${t.sim.tokenSecret}` },
});
const snapshotTimes = async (): Promise<number[]> =>
  (
    await t.ok<{ "backup-time": number; "backup-id": string }[]>(
      "GET",
      "/admin/datastore/backup/snapshots",
      {},
      pbsAuth(),
    )
  )
    .filter((s) => s["backup-id"] === "100")
    .map((s) => s["backup-time"])
    .sort();

/** PBS backup times are whole seconds: a second vzdump in the same second would collide. */
async function vzdump(): Promise<void> {
  const last = Math.max(0, ...(t.sim.state.pbs.snapshots.backup ?? []).map((s) => s["backup-time"]));
  while (Math.floor(Date.now() / 1000) <= last) await new Promise((r) => setTimeout(r, 50));
  const r = await runTask(t, "POST", "/nodes/pve/vzdump", {
    vmid: "100",
    storage: "pbs-lab",
    mode: "snapshot",
    remove: 0,
  });
  expect(r.exitstatus, r.log.join("\n")).toBe("OK");
}

beforeAll(async () => {
  t = await startTestSim({ pbsTimeZone: "UTC" });
  root = await mkdtemp(join(tmpdir(), "lab-plan-"));
  await mkdir(join(root, "inventory"), { recursive: true });
  await mkdir(join(root, "backups"), { recursive: true });
  await writeFile(
    join(root, "inventory", "lab.yaml"),
    stringify({
      proxmox: {
        pve1: {
          url: t.sim.url,
          node: "pve",
          token_id: t.sim.tokenId,
          token_secret: "pve1_token",
          ca_file: t.sim.caFile,
        },
      },
      pbs: { pbs1: { url: t.sim.pbsUrl, token_id: t.sim.tokenId, token_secret: "pve1_token", ca_file: t.sim.caFile } },
      vlans: { Lab: { tag: 40, subnet: "10.10.40.0/24" } },
      templates: {
        "debian-12": { endpoint: "pve1", image_url: "http://127.0.0.1/x.qcow2", checksum: "sha256:00", vmid: 9000 },
      },
      vms: { vm100: { template: "debian-12", vlan: "Lab" }, vm101: { template: "debian-12", vlan: "Lab" } },
    }),
  );
  await writeFile(
    join(root, "backups", "policy.yaml"),
    stringify({
      defaults: { rpo: "24h", timezone: "UTC" },
      vms: {
        lab: {
          select: { vms: ["vm100", "vm101"] },
          endpoint: "pve1",
          pbs: "pbs1",
          datastore: "backup",
          storage: "pbs-lab",
          schedule: "*-*-* 02:30",
          retention: { last: 2 },
        },
      },
    }),
  );
  expect((await lab(["secrets", "init"])).code).toBe(0);
  expect((await lab(["secrets", "set", "pve1_token"], t.sim.tokenSecret)).code).toBe(0);
  await t.ok("POST", "/storage", {
    storage: "pbs-lab",
    type: "pbs",
    server: "127.0.0.1",
    datastore: "backup",
    username: t.sim.tokenId,
    password: t.sim.tokenSecret,
    fingerprint: t.sim.fingerprint,
  });
  await createVm(t, 100);
  for (let i = 0; i < 3; i++) await vzdump();
}, 60_000);

afterAll(async () => {
  await t?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe("lab backup plan", () => {
  it("lists, per PBS group, what the next prune removes: the oldest of three with keep-last=2", async () => {
    const times = (await snapshotTimes()).map((s) => new Date(s * 1000).toISOString().replace(".000Z", "Z"));
    expect(times).toHaveLength(3);
    const r = await lab(["backup", "plan", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as BackupPlan;
    const g = plan.groups.find((x) => x.vm === "vm100")!;
    expect(g).toMatchObject({
      target: "lab",
      vmid: 100,
      group: "vm/100",
      pbs: "pbs1",
      datastore: "backup",
      keep: { last: 2 },
      remove: 1,
    });
    expect(g.snapshots).toEqual([
      { time: times[2], action: "keep", reason: "keep-last" },
      { time: times[1], action: "keep", reason: "keep-last" },
      { time: times[0], action: "remove" },
    ]);
    // vm101 is in the policy but was never created: named, nothing planned.
    expect(plan.groups.find((x) => x.vm === "vm101")).toMatchObject({
      snapshots: [],
      remove: 0,
      note: "VM vm101 does not exist on pve1 yet",
    });

    const table = await lab(["backup", "plan"]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(
      new RegExp(`lab\\s+vm/100 \\(vm100\\)\\s+pbs1:backup\\s+${times[0]}\\s+\\S+ \\S+\\s+remove`),
    );
    expect(table.stdout).toContain(
      "lab vm/100 on pbs1:backup: keep-last=2: 1 of 3 to remove; no prune job on the PBS yet (lab apply creates it)",
    );
    expect(table.stdout).toContain("the next prune removes 1 snapshot(s) in 2 group(s)");
  }, 60_000);

  it("agrees with what a PBS prune job with the policy's retention then removes, and changes nothing itself", async () => {
    const before = await snapshotTimes();
    const plan = JSON.parse((await lab(["backup", "plan", "--json"])).stdout) as BackupPlan;
    expect(await snapshotTimes()).toEqual(before);
    await t.ok(
      "POST",
      "/config/prune",
      { id: "lab-lab", store: "backup", schedule: "daily", "keep-last": 2 },
      pbsAuth(),
    );
    // "daily" is 00:00 in the PBS's zone (UTC here): the next midnight (before or after the run, should it cross one).
    const midnight = () => new Date(new Date().setUTCHours(24, 0, 0, 0)).getTime() / 1000;
    const midnightBefore = midnight();
    const withJob = JSON.parse((await lab(["backup", "plan", "--json"])).stdout) as BackupPlan;
    expect(withJob.groups[0]!.pruneJob).toMatchObject({ id: "lab-lab", schedule: "daily" });
    expect([midnightBefore, midnight()]).toContain(withJob.groups[0]!.pruneJob!.nextRun);
    const upid = await t.ok<string>("POST", "/admin/prune/lab-lab/run", {}, pbsAuth());
    for (;;) {
      const s = await t.ok<{ status: string }>(
        "GET",
        `/nodes/localhost/tasks/${encodeURIComponent(upid)}/status`,
        {},
        pbsAuth(),
      );
      if (s.status === "stopped") break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const kept = plan.groups[0]!.snapshots.filter((s) => s.action === "keep")
      .map((s) => Date.parse(s.time) / 1000)
      .sort();
    expect(await snapshotTimes()).toEqual(kept);
    // After the prune, the next one removes nothing.
    const after = JSON.parse((await lab(["backup", "plan", "--json"])).stdout) as BackupPlan;
    expect(after.groups[0]!.remove).toBe(0);
  }, 60_000);

  it("a target that is not a VM target is bad input (exit 2), nothing contacted", async () => {
    const r = await lab(["backup", "plan", "nosuch"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown backup target "nosuch"');
  }, 60_000);
});
