// lab on a three-node cluster (the simulator with nodes pve, pve2, pve3; ADR 0017): a
// template on shared storage, a VM pinned to pve2 (cloned there with `target`, its guest
// booted and reached over SSH) and one placed round-robin; the second apply changes
// nothing; then the pinned VM's node changes: `lab plan` shows an online migration, apply
// moves it while it runs, and the apply after that changes nothing. Every call conforms.
import { createReadStream } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RecordedCall } from "../../src/proxmox/client.ts";
import { checkCalls } from "../../src/proxmox/conformance.ts";
import { containerGuests, removeGuests } from "../../src/sim/container-guests.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import type { TestLabData } from "../hosts/hosts.ts";
import { REPO, changedCount, makeProject, type TestProject } from "./project.ts";

const IMAGE = "debian-12-genericcloud-amd64.qcow2";
const CHECKSUM = "sha256:72ab1c196cbd9103dc8e8d1d102a244ae7c25ee70fd2a3d652498d2ea1d6f383";
const GUEST_PREFIX = "lab-cluster";

let lab: TestLabData;
let sim: Simulator;
let images: Server;
let p: TestProject;
let env: Record<string, string>;
let record: string;
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
const calls = async () =>
  (await readFile(record, "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as RecordedCall);

beforeAll(async () => {
  lab = inject("testLab");
  await removeGuests(GUEST_PREFIX);
  images = createServer((req, res) => {
    if (req.url !== `/${IMAGE}`) return void res.writeHead(404).end();
    createReadStream(join(REPO, "examples/cloud-image", IMAGE)).pipe(res);
  });
  await new Promise<void>((r) => images.listen(0, "127.0.0.1", r));
  imageUrl = `http://127.0.0.1:${(images.address() as { port: number }).port}/${IMAGE}`;
  sim = await startSimulator({
    stateDir: await mkdtemp(join(tmpdir(), "lab-sim-")),
    nodes: ["pve", "pve2", "pve3"],
    port: 0,
    taskDelayMs: 10,
    pbsPort: false,
    guestBackend: containerGuests({ prefix: GUEST_PREFIX, subnet: "127.0.47" }),
  });
  p = await makeProject(lab, { groups: {}, files: { "playbooks/pve.ts": PLAYBOOK } });
  await p.write("inventory/pve.yaml", inventory("pve2"));
  record = join(p.root, "pve-calls.jsonl");
  env = { LAB_AGE_KEY_FILE: join(p.root, "age.key"), LAB_PVE_RECORD: record };
  expect((await p.lab(["secrets", "init"], { env })).code).toBe(0);
  expect((await p.lab(["secrets", "set", "pve1_token"], { env, stdin: sim.tokenSecret })).code).toBe(0);
}, 300_000);

afterAll(async () => {
  await sim?.stop({ stopGuests: true });
  await removeGuests(GUEST_PREFIX);
  images?.close();
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
