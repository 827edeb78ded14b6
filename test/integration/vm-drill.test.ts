// `lab drill` of a VM target on the simulator, whose VMs are real containers
// (container guests, loopback 127.0.46.x, prefix lab-it-vmdrill): a production VM
// with data is backed up to the simulator's PBS by `lab backup --run`, the drill
// restores it to a marked scratch VMID on the Lab VLAN with new MACs, the SSH
// probe answers from the restored guest, and the copy is destroyed — also when a
// probe fails (exit 7), when the drill is interrupted (exit 130), and when a
// crashed drill left one behind. What the drill claims is checked in the
// simulator's state and in Docker, independently.
import { execFile, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { reportBase, type DrillReport } from "../../src/drill/report.ts";
import type { VmDrillResult } from "../../src/drill/vm-drill.ts";
import { containerGuests, removeGuests } from "../../src/sim/container-guests.ts";
import type { TestLabData } from "../hosts/hosts.ts";
import { type TestSim, runTask, startTestSim } from "../unit/sim/helpers.ts";
import { LAB_BIN, makeProject, type LabRun, type TestProject } from "./project.ts";

const PREFIX = "lab-it-vmdrill";
const SUBNET = "127.0.46";
const PROD = 200;
const SCRATCH = 219; // the top of vmid_range: where a drill copy goes
const LAB_TAG = 40;
const MARKER = "written before the backup";

type VmReport = Omit<DrillReport, "drills"> & { drills: VmDrillResult[] };
const docker = async (...args: string[]) => (await promisify(execFile)("docker", args)).stdout.trim();
const inGuest = (vmid: number, script: string) => docker("exec", `${PREFIX}-${vmid}`, "sh", "-c", script);
/** Images imported for restored guests (each copy boots from its backup's filesystem). */
const restoredImages = async () =>
  (await docker("images", "-q", "--filter", `label=lab.sim.guest=${PREFIX}`)).split("\n").filter(Boolean);
const containers = async () =>
  (await docker("ps", "-a", "--format", "{{.Names}}", "--filter", `label=lab.sim.guest=${PREFIX}`))
    .split("\n")
    .filter(Boolean)
    .sort();

let lab: TestLabData;
let t: TestSim;
let p: TestProject;
let env: Record<string, string>;

const POLICY = `
defaults: { rpo: 1d, rto: 30m, drill_every: 90d, timezone: UTC }
vms:
  apps:
    select: { vms: [app1] }
    endpoint: pve1
    pbs: pbs1
    datastore: backup
    storage: pbs
    schedule: "*-*-* 02:30"
    retention: { last: 5 }
`;
const drillsFile = (probes: unknown[]) => stringify({ vms: { apps: { probes, agent_timeout: "60s" } } });
const GOOD_PROBES = [
  { name: "the data survived", ssh: "cat /root/marker", expect: MARKER },
  { name: "nothing written after the backup", ssh: "test ! -e /root/after-backup", timeout: "5s" },
];

const prodConfig = () => JSON.stringify(t.sim.state.vms[PROD]!.config);
/** Every drill copy the simulator held while `during` ran (polled): its status and NICs. */
async function watchCopies<T>(
  during: () => Promise<T>,
): Promise<{ result: T; seen: Map<number, { nets: string[]; running: boolean; tags: string }> }> {
  const seen = new Map<number, { nets: string[]; running: boolean; tags: string }>();
  const poll = setInterval(() => {
    for (const vm of Object.values(t.sim.state.vms)) {
      if (vm.vmid === PROD || !(vm.config.tags ?? "").includes("lab-drill")) continue;
      const prev = seen.get(vm.vmid);
      const nets = Object.entries(vm.config)
        .filter(([k]) => /^net\d+$/.test(k))
        .map(([, v]) => v);
      seen.set(vm.vmid, {
        nets,
        running: (prev?.running ?? false) || vm.status === "running",
        tags: vm.config.tags ?? "",
      });
    }
  }, 20);
  try {
    return { result: await during(), seen };
  } finally {
    clearInterval(poll);
  }
}

const drill = async (args: string[] = []): Promise<{ run: LabRun; report: VmReport }> => {
  const r = await p.lab(["drill", "--json", ...args], { env, timeoutMs: 300_000 });
  try {
    return { run: r, report: JSON.parse(r.stdout) as VmReport };
  } catch {
    throw new Error(`lab drill printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
};
const copiesLeft = () =>
  Object.values(t.sim.state.vms)
    .filter((vm) => vm.vmid !== PROD && (vm.config.tags ?? "").includes("lab-drill"))
    .map((vm) => vm.vmid);

beforeAll(async () => {
  lab = inject("testLab");
  await removeGuests(PREFIX);
  t = await startTestSim({ guestBackend: containerGuests({ prefix: PREFIX, subnet: SUBNET }) });
  const pub = (await readFile(`${lab.keyFile}.pub`, "utf8")).trim();
  p = await makeProject(lab, {
    groups: {},
    knownHosts: join(lab.stateDir, "vmdrill-known_hosts"),
    files: {
      "backups/policy.yaml": POLICY,
      "backups/drills.yaml": drillsFile(GOOD_PROBES),
      // A plan that reads nothing: only its warnings matter here.
      "playbooks/site.ts":
        'import { definePlaybook } from "@lab";\nexport default definePlaybook({ name: "noop", plays: [{ name: "none", hosts: "proxmox", roles: () => [] }] });\n',
    },
  });
  await p.write(
    "inventory/pve.yaml",
    stringify({
      proxmox: {
        pve1: {
          url: t.sim.url,
          node: "pve",
          token_id: "root@pam!lab",
          token_secret: "pve1_token",
          ca_file: t.sim.caFile,
          vmid_range: { min: PROD, max: SCRATCH },
          task_timeout: 60,
        },
      },
      pbs: {
        pbs1: {
          url: t.sim.pbsUrl,
          token_id: "root@pam!lab",
          token_secret: "pve1_token",
          fingerprint: t.sim.fingerprint,
        },
      },
      vlans: {
        Trusted: { tag: 10, subnet: "10.10.10.0/24" },
        Lab: { tag: LAB_TAG, subnet: "10.10.40.0/24", isolated: true },
      },
      templates: {
        "debian-12": {
          endpoint: "pve1",
          image_url: "http://127.0.0.1:9/unused.qcow2",
          checksum: "sha256:72ab1c196cbd9103dc8e8d1d102a244ae7c25ee70fd2a3d652498d2ea1d6f383",
          vmid: 9100,
        },
      },
      vms: { app1: { template: "debian-12", vlan: "Trusted", ssh_keys: [`${lab.keyFile}.pub`] } },
      hosts: { "g-app1": { vm: "app1", user: "lab", become: true, port: 2222 } },
    }),
  );
  env = { LAB_AGE_KEY_FILE: join(p.root, "age.key") };
  expect((await p.lab(["secrets", "init"], { env })).code).toBe(0);
  expect((await p.lab(["secrets", "set", "pve1_token"], { env, stdin: t.sim.tokenSecret })).code).toBe(0);

  // Production: a VM on the Trusted VLAN whose guest is a real container, with data in it.
  await t.ok("POST", "/storage", {
    storage: "pbs",
    type: "pbs",
    server: "127.0.0.1",
    datastore: "backup",
    username: "root@pam!lab",
    password: t.sim.tokenSecret,
    fingerprint: t.sim.fingerprint,
  });
  const created = await runTask(t, "POST", "/nodes/pve/qemu", {
    vmid: PROD,
    name: "app1",
    memory: 512,
    scsi0: "local-lvm:1",
    agent: "enabled=1",
    ide2: "local-lvm:cloudinit",
    net0: "virtio,bridge=vmbr0,firewall=1,tag=10",
    ciuser: "lab",
    sshkeys: encodeURIComponent(pub),
    tags: "lab",
  });
  expect(created.exitstatus).toBe("OK");
  expect((await runTask(t, "POST", `/nodes/pve/qemu/${PROD}/status/start`)).exitstatus).toBe("OK");
  await inGuest(PROD, `echo '${MARKER}' > /root/marker`);
}, 300_000);

afterAll(async () => {
  await t?.sim.stop({ stopGuests: true });
  await removeGuests(PREFIX);
  await t?.close().catch(() => undefined);
});

describe("lab drill: VM targets on the simulator with container guests", { timeout: 300_000 }, () => {
  it("lab plan and lab backup --run warn that the VM target was never drilled; the backup is taken", async () => {
    const plan = await p.lab(["plan"], { env });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toContain("lab: warning: apps: no successful restore drill on record: run `lab drill apps`");
    const r = await p.lab(["backup", "--run", "apps"], { env, timeoutMs: 120_000 });
    expect(r.stdout + r.stderr).toContain("apps: no successful restore drill on record: run `lab drill apps`");
    expect(t.sim.state.pbs.snapshots.backup?.filter((s) => s["backup-id"] === String(PROD))).toHaveLength(1);
    // A second, newer backup; then production moves on (the copy must not have this).
    await new Promise((r2) => setTimeout(r2, 1100));
    await inGuest(PROD, "echo second > /root/second");
    expect(
      (await runTask(t, "POST", "/nodes/pve/vzdump", { vmid: String(PROD), storage: "pbs", mode: "snapshot" }))
        .exitstatus,
    ).toBe("OK");
    await inGuest(PROD, "echo after > /root/after-backup");
  });

  it("restores the newest and (--older) a seeded random older backup to a marked scratch VM on the Lab VLAN; the probes answer from it; it is destroyed", async () => {
    const before = prodConfig();
    const prodMac = /virtio=([0-9A-F:]+)/.exec(t.sim.state.vms[PROD]!.config.net0!)![1]!;
    const {
      result: { run: r, report },
      seen,
    } = await watchCopies(() => drill(["--older", "--seed", "7"]));
    expect(r.code, r.stderr + JSON.stringify(report.problems)).toBe(0);
    const d = report.drills.find((x) => x.target === "apps")!;
    expect(d.kind).toBe("vm");
    expect(d.restores.map((x) => [x.vm, x.which, x.scratchVmid, x.ok])).toEqual([
      ["app1", "newest", SCRATCH, true],
      ["app1", "older", SCRATCH, true],
    ]);
    const snaps = t.sim.state.pbs.snapshots
      .backup!.filter((s) => s["backup-id"] === String(PROD))
      .map((s) => s["backup-time"])
      .sort();
    expect(d.restores.map((x) => x.backupAt)).toEqual([
      new Date(snaps[1]! * 1000).toISOString(),
      new Date(snaps[0]! * 1000).toISOString(),
    ]);
    expect(d.restores[1]).toMatchObject({ seed: 7, candidates: 1 });
    expect(d.older).toEqual({ restored: true, forced: true, seed: 7 });
    for (const x of d.restores) {
      expect(x.address).toBe(`${SUBNET}.${(SCRATCH % 254) + 1}`);
      expect(x.checks.map((c) => [c.name, c.ok])).toEqual([
        ["ssh: the data survived", true],
        ["ssh: nothing written after the backup", true],
      ]);
      expect(x.rtoSec).toBeCloseTo(
        x.phases!.restoreSec + x.phases!.startSec + x.phases!.agentSec + x.phases!.probesSec,
        6,
      );
      expect(x.phases!.restoreSec).toBeGreaterThan(0);
    }
    expect(d.restores[0]!.rpoSec).toBeGreaterThan(0);
    expect(d.rpoSec).toBe(d.restores[0]!.rpoSec);
    // While it ran: the copy was marked, and every NIC was on the Lab VLAN with a MAC of its own.
    expect([...seen.keys()]).toEqual([SCRATCH]);
    const copy = seen.get(SCRATCH)!;
    expect(copy.running).toBe(true);
    expect(copy.tags).toBe("lab-drill");
    expect(copy.nets).toHaveLength(1);
    expect(copy.nets[0]).toMatch(new RegExp(`^virtio=[0-9A-F:]+,bridge=vmbr0,firewall=1,tag=${LAB_TAG}$`));
    expect(copy.nets[0]).not.toContain(prodMac);
    // Gone afterwards, container and all; production untouched and still serving.
    expect(copiesLeft()).toEqual([]);
    expect(await containers()).toEqual([`${PREFIX}-${PROD}`]);
    expect(await restoredImages()).toEqual([]);
    expect(prodConfig()).toBe(before);
    expect(
      t.sim.state.volumes["local-lvm"]!.filter((v) => v.vmid === PROD)
        .map((v) => v.volid)
        .sort(),
    ).toEqual([`local-lvm:vm-${PROD}-cloudinit`, `local-lvm:vm-${PROD}-disk-0`]);
    expect(t.sim.state.vms[PROD]!.status).toBe("running");
    expect(await inGuest(PROD, "cat /root/after-backup")).toBe("after");
    expect(d.productionChanged).toEqual([]);
    // Report, chart and metrics.
    const md = await readFile(join(p.root, "backups/reports", `${reportBase(report.started_at)}.md`), "utf8");
    expect(md).toContain(
      `| apps | app1 (${PROD}): newest backup ${d.restores[0]!.backupAt} -> scratch VM ${SCRATCH} on Lab |`,
    );
    expect(md).toContain("random pick of 1 older, seed 7");
    const prom = await readFile(join(p.root, ".lab/metrics/lab-drill.prom"), "utf8");
    expect(prom).toContain('lab_drill_success{target="apps",kind="vm"} 1');
    expect(prom).toMatch(/lab_drill_rto_seconds\{target="apps",kind="vm"\} \d/);
    expect(prom).toMatch(/lab_drill_rpo_seconds\{target="apps",kind="vm"\} \d/);
    // The drill is on record: lab backup no longer warns about it.
    const b = await p.lab(["backup", "apps"], { env, timeoutMs: 120_000 });
    expect(b.stdout + b.stderr).not.toContain("restore drill");
    const plan = await p.lab(["plan"], { env });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).not.toContain("restore drill");
  });

  it("a drill whose probe fails exits 7, names the probe, and still destroys the scratch VM; the older backup is not due again", async () => {
    await p.write(
      "backups/drills-failing.yaml",
      drillsFile([{ name: "a file that is not there", ssh: "cat /root/never-written", timeout: "2s" }]),
    );
    const before = prodConfig();
    const { run: r, report } = await drill(["--drills", "backups/drills-failing.yaml"]);
    expect(r.code, r.stderr).toBe(7);
    const d = report.drills[0]!;
    expect(d.restores.map((x) => x.which)).toEqual(["newest"]);
    expect(d.ok).toBe(false);
    expect(report.problems.join("\n")).toMatch(
      /apps: app1 \(newest backup\): ssh: a file that is not there: exit 1: .*never-written/,
    );
    expect(copiesLeft()).toEqual([]);
    expect(await containers()).toEqual([`${PREFIX}-${PROD}`]);
    expect(prodConfig()).toBe(before);
  });

  it("removes a crashed drill's marked leftover (and nothing unmarked) before drilling", async () => {
    const [vol] = await t.ok<{ volid: string }[]>("GET", "/nodes/pve/storage/pbs/content", {
      content: "backup",
      vmid: PROD,
    });
    // What a drill killed after its restore leaves: a marked, running copy at the scratch VMID.
    const crashed = await runTask(t, "POST", "/nodes/pve/qemu", {
      vmid: SCRATCH,
      archive: vol!.volid,
      storage: "local-lvm",
      unique: 1,
      name: "lab-drill-app1",
      tags: "lab-drill",
      description: "lab:lab-drill=20261201T000000Z-99999;target=apps;source=app1\ncrashed drill",
      net0: `virtio,bridge=vmbr0,firewall=1,tag=${LAB_TAG}`,
    });
    expect(crashed.exitstatus, crashed.log.join("\n")).toBe("OK");
    expect((await runTask(t, "POST", `/nodes/pve/qemu/${SCRATCH}/status/start`)).exitstatus).toBe("OK");
    // Tagged but without the marker: not a drill's, so never removed.
    expect(
      (
        await runTask(t, "POST", "/nodes/pve/qemu", {
          vmid: 218,
          name: "someones-vm",
          memory: 256,
          tags: "lab-drill",
          net0: "virtio,bridge=vmbr0,tag=40",
        })
      ).exitstatus,
    ).toBe("OK");
    expect(await containers()).toEqual([`${PREFIX}-${PROD}`, `${PREFIX}-${SCRATCH}`]);

    const { run: r, report } = await drill();
    expect(r.code, r.stderr + JSON.stringify(report.problems)).toBe(0);
    expect(report.leftovers_removed).toEqual([`pve1/${SCRATCH} (lab-drill-app1)`]);
    expect(r.stderr).toContain(`removed leftovers of a crashed drill: pve1/${SCRATCH} (lab-drill-app1)`);
    expect(report.drills[0]!.restores[0]!.scratchVmid).toBe(SCRATCH); // free again once the leftover was gone
    expect(Object.keys(t.sim.state.vms).map(Number).sort()).toEqual([PROD, 218]);
    expect(await containers()).toEqual([`${PREFIX}-${PROD}`]);
    expect(await restoredImages()).toEqual([]);
    expect((await runTask(t, "DELETE", "/nodes/pve/qemu/218")).exitstatus).toBe("OK");
  });

  it.each([
    ["while the copy is being restored", "restoring pbs:"],
    ["once the copy runs", undefined],
  ])("an interrupted drill (SIGINT %s) destroys its scratch VM and exits 130", async (_when, line) => {
    const child = spawn("node", [LAB_BIN, "-C", p.root, "drill"], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number>((done) => child.on("exit", (code, sig) => done(code ?? (sig ? 128 : 1))));
    const until = Date.now() + 120_000;
    const ready = () => (line ? out.includes(line) : t.sim.state.vms[SCRATCH]?.status === "running");
    while (!ready() && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    expect(ready(), out).toBe(true);
    child.kill("SIGINT");
    expect(await exited, out).toBe(130);
    expect(copiesLeft()).toEqual([]);
    expect(await containers()).toEqual([`${PREFIX}-${PROD}`]);
  });
});
