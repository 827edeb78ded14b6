// lab on a three-node cluster (the simulator with nodes pve, pve2, pve3; ADR 0017): a
// template on shared storage, a VM pinned to pve2 (cloned there with `target`, its guest
// booted and reached over SSH) and one placed round-robin; the second apply changes
// nothing; then the pinned VM's node changes: `lab plan` shows an online migration, apply
// moves it while it runs, and the apply after that changes nothing. Every call conforms.
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkCalls } from "../../src/proxmox/conformance.ts";
import type { Simulator } from "../../src/sim/index.ts";
import type { TestLabData } from "../hosts/hosts.ts";
import { REPO, changedCount, type TestProject } from "./project.ts";
import { CHECKSUM, startSimProject, type SimProject } from "./sim-project.ts";

const GUEST_PREFIX = "lab-cluster";

let setup: SimProject;
let lab: TestLabData;
let sim: Simulator;
let p: TestProject;
let env: Record<string, string>;
let imageUrl: string;

function inventory(runNode: string) {
  return stringify({
    proxmox: {
      pve1: {
        url: sim.url,
        node: "pve",
        nodes: ["pve", "pve2", "pve3"],
        token_id: "root@pam!lab",
        token_secret: "pve1_token",
        ca_file: sim.caFile,
        vmid_range: { min: 300, max: 399 },
        task_timeout: 60,
      },
    },
    vlans: { Trusted: { tag: 10, subnet: "10.10.10.0/24", gateway: "10.10.10.1" } },
    templates: {
      "debian-12": { endpoint: "pve1", image_url: imageUrl, checksum: CHECKSUM, vmid: 9100, storage: "shared" },
    },
    vms: {
      "c-run": { template: "debian-12", vlan: "Trusted", node: runNode, ssh_keys: [`${lab.keyFile}.pub`] },
      "c-off": { template: "debian-12", vlan: "Trusted", clone: "full", started: false },
    },
    groups: { guests: { hosts: ["g-run"] } },
    hosts: { "g-run": { vm: "c-run", user: "lab", become: true, port: 2222 } },
  });
}

const PLAYBOOK = `
import { definePlaybook, inline, file } from "@lab";
import { proxmoxLab } from "${join(REPO, "roles/proxmox-lab.ts")}";
export default definePlaybook({ name: "pve", plays: [
  { name: "proxmox", hosts: "proxmox", roles: (h) => [proxmoxLab({ endpoint: h.name, agentTimeoutSec: 60 })] },
  { name: "guests", hosts: "guests", roles: (h) => [inline([file({ path: "/etc/lab-guest", content: "configured " + h.name + "\\n" })])] },
] });
`;

const vmOf = (name: string) => Object.values(sim.state.vms).find((v) => v.config.name === name);
const calls = () => setup.calls();

beforeAll(async () => {
  setup = await startSimProject({
    guestPrefix: GUEST_PREFIX,
    guestSubnet: "127.0.47",
    nodes: ["pve", "pve2", "pve3"],
    playbook: PLAYBOOK,
    inventory: (x) => {
      ({ sim, imageUrl, lab } = x);
      return inventory("pve2");
    },
  });
  ({ p, env } = setup);
}, 300_000);

afterAll(async () => {
  await setup?.stop();
});

describe("lab on a three-node cluster", () => {
  it("clones onto the VM's node with target, places the other round-robin, and the second apply changes nothing", async () => {
    const plan = await p.lab(["plan", "playbooks/pve.ts"], { env });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain("linked clone of template debian-12 -> VM c-run on node pve2");
    for (const n of ["pve", "pve2", "pve3"]) expect(plan.stdout).toContain(`pve:network/${n}/vmbr0`);

    const first = await p.applyJson(["playbooks/pve.ts"], { env });
    expect(first.run.code, first.run.stderr).toBe(0);
    expect(first.report.hosts["g-run"]?.changed).toBe(1);
    expect([vmOf("c-run")?.node, vmOf("c-run")?.status]).toEqual(["pve2", "running"]);
    // Round-robin over the unplaced VMs: c-off is the first, so the first node.
    expect(vmOf("c-off")?.node).toBe("pve");
    const clones = (await calls()).filter((c) => c.method === "POST" && c.path.endsWith("/clone"));
    expect(clones.map((c) => [c.path, c.values?.target])).toEqual([
      ["/nodes/pve/qemu/9100/clone", "pve2"],
      ["/nodes/pve/qemu/9100/clone", undefined],
    ]);

    const second = await p.applyJson(["playbooks/pve.ts"], { env });
    expect(second.run.code, second.run.stderr).toBe(0);
    expect(changedCount(second.report), JSON.stringify(second.report.steps.filter((s) => s.status !== "ok"))).toBe(0);
  });

  it("plans a changed node as an online migration, applies it while the VM runs, then changes nothing", async () => {
    await p.write("inventory/pve.yaml", inventory("pve3"));
    const plan = await p.lab(["plan", "playbooks/pve.ts"], { env });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain("migrate VM c-run from pve2 to pve3 (online)");

    const moved = await p.applyJson(["playbooks/pve.ts"], { env });
    expect(moved.run.code, moved.run.stderr).toBe(0);
    expect([vmOf("c-run")?.node, vmOf("c-run")?.status]).toEqual(["pve3", "running"]);
    const migrate = (await calls()).filter((c) => c.path.endsWith("/migrate"));
    expect(migrate.map((c) => [c.path, c.values])).toEqual([
      [`/nodes/pve2/qemu/${vmOf("c-run")!.vmid}/migrate`, { target: "pve3", online: "1", "with-local-disks": "1" }],
    ]);

    const again = await p.applyJson(["playbooks/pve.ts"], { env });
    expect(again.run.code, again.run.stderr).toBe(0);
    expect(changedCount(again.report), JSON.stringify(again.report.steps.filter((s) => s.status !== "ok"))).toBe(0);
  });

  it("sent only calls the PVE schema accepts (values and replies)", async () => {
    const all = await calls();
    expect(all.length).toBeGreaterThan(30);
    expect(checkCalls(all).map((x) => x.problem)).toEqual([]);
  });
});
