// The README's least-privilege PVE token, created on the simulator exactly as
// documented (role, user, ACL, token, read from README.md), applies the demo's
// proxmox play (VLANs, SDN, firewall, template, one VM per VLAN) and a second
// apply changes nothing. With one privilege taken out of the role, the preflight
// names it and nothing changes. Guests are state only here (their agent reports
// an address on 127.0.44.x): the SSH part is proxmox.test.ts's.
import { createReadStream } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startSimulator, type GuestBackend, type Simulator } from "../../src/sim/index.ts";
import { ProxmoxClient, type RecordedCall } from "../../src/proxmox/client.ts";
import { checkCalls } from "../../src/proxmox/conformance.ts";
import { applyReadmeRole, readmeRole } from "../unit/sim/least-privilege.ts";
import { REPO, changedCount, makeProject, type TestProject } from "./project.ts";

const IMAGE = "debian-12-genericcloud-amd64.qcow2";
const CHECKSUM = "sha256:72ab1c196cbd9103dc8e8d1d102a244ae7c25ee70fd2a3d652498d2ea1d6f383";
const guests: GuestBackend = {
  start: (vm) => Promise.resolve({ ip: `127.0.44.${(vm.vmid % 254) + 1}` }),
  stop: () => Promise.resolve(),
};

let sim: Simulator;
let images: Server;
let p: TestProject;
let env: Record<string, string>;
let record: string;

const PLAYBOOK = `
import { definePlaybook } from "@lab";
import { proxmoxLab } from "${join(REPO, "roles/proxmox-lab.ts")}";
export default definePlaybook({ name: "pve", plays: [
  { name: "proxmox", hosts: "proxmox", roles: (h) => [proxmoxLab({ endpoint: h.name, agentTimeoutSec: 30 })] },
] });
`;

async function admin<T>(fn: (c: ProxmoxClient) => Promise<T>): Promise<T> {
  const c = await ProxmoxClient.connect({
    url: sim.url,
    auth: { tokenId: sim.tokenId, tokenSecret: sim.tokenSecret },
    tls: { caFile: sim.caFile },
  });
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

beforeAll(async () => {
  const lab = inject("testLab");
  images = createServer((req, res) => {
    if (req.url !== `/${IMAGE}`) return void res.writeHead(404).end();
    createReadStream(join(REPO, "examples/cloud-image", IMAGE)).pipe(res);
  });
  await new Promise<void>((r) => images.listen(0, "127.0.0.1", r));
  const imageUrl = `http://127.0.0.1:${(images.address() as { port: number }).port}/${IMAGE}`;
  sim = await startSimulator({
    stateDir: await mkdtemp(join(tmpdir(), "lab-it-sim-lp-")),
    port: 0,
    taskDelayMs: 5,
    pbsPort: false,
    guestBackend: guests,
  });
  const token = await admin((c) =>
    applyReadmeRole((m, path, params) =>
      m === "GET" ? c.get(path, params) : m === "PUT" ? c.put(path, params) : c.post(path, params),
    ),
  );
  p = await makeProject(lab, { groups: {}, files: { "playbooks/pve.ts": PLAYBOOK } });
  await p.write(
    "inventory/pve.yaml",
    stringify({
      proxmox: {
        pve1: {
          url: sim.url,
          node: "pve",
          token_id: token.tokenId,
          token_secret: "pve1_token",
          ca_file: sim.caFile,
          vmid_range: { min: 300, max: 399 },
          task_timeout: 60,
        },
      },
      vlans: {
        Trusted: { tag: 10, subnet: "10.10.10.0/24", gateway: "10.10.10.1" },
        IoT: { tag: 20, subnet: "10.10.20.0/24", deny_to: ["Trusted"] },
        Lab: { tag: 40, subnet: "10.10.40.0/24", isolated: true },
      },
      templates: { "debian-12": { endpoint: "pve1", image_url: imageUrl, checksum: CHECKSUM, vmid: 9100 } },
      vms: {
        "vm-trusted": { template: "debian-12", vlan: "Trusted" },
        "vm-iot": { template: "debian-12", vlan: "IoT" },
        "vm-lab": { template: "debian-12", vlan: "Lab", clone: "full", disk: 12 },
      },
    }),
  );
  record = join(p.root, "pve-calls.jsonl");
  env = { LAB_AGE_KEY_FILE: join(p.root, "age.key"), LAB_PVE_RECORD: record };
  expect((await p.lab(["secrets", "init"], { env })).code).toBe(0);
  expect((await p.lab(["secrets", "set", "pve1_token"], { env, stdin: token.secret })).code).toBe(0);
}, 300_000);

afterAll(async () => {
  await sim?.stop();
  images?.close();
});

describe("the README's least-privilege token", () => {
  it("applies the proxmox play, and the second apply changes nothing", async () => {
    const r = readmeRole();
    expect(sim.state.acl).toEqual([{ path: r.aclPath, ugid: r.user, roleid: r.role, propagate: true }]);
    const first = await p.applyJson(["playbooks/pve.ts"], { env });
    expect(first.run.code, first.run.stdout + first.run.stderr).toBe(0);
    const names = Object.values(sim.state.vms)
      .map((v) => String(v.config.name))
      .sort();
    expect(names).toEqual([expect.stringMatching(/^debian-12-[0-9a-f]{8}$/), "vm-iot", "vm-lab", "vm-trusted"]);
    const second = await p.applyJson(["playbooks/pve.ts"], { env });
    expect(second.run.code).toBe(0);
    expect(changedCount(second.report), JSON.stringify(second.report.steps.filter((s) => s.status !== "ok"))).toBe(0);
    const calls = (await readFile(record, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as RecordedCall);
    expect(calls.length).toBeGreaterThan(30);
    expect(checkCalls(calls).map((c) => c.problem)).toEqual([]);
  });

  it("without one documented privilege (SDN.Use), the preflight names it and nothing changes", async () => {
    const r = readmeRole();
    await admin((c) => c.put(`/access/roles/${r.role}`, { privs: r.privs.filter((x) => x !== "SDN.Use").join(",") }));
    const vmsBefore = JSON.stringify(sim.state.vms);
    const yaml = await readFile(join(p.root, "inventory/pve.yaml"), "utf8");
    await p.write(
      "inventory/pve.yaml",
      yaml.replace("vms:\n", "vms:\n  vm-new:\n    template: debian-12\n    vlan: IoT\n"),
    );
    try {
      const run = await p.lab(["apply", "-y", "playbooks/pve.ts"], { env });
      expect(run.code).toBe(3);
      expect(run.stdout).toContain("the API token lacks privileges this playbook needs");
      expect(run.stdout).toContain("/sdn/zones/localnetwork/vmbr0/20: SDN.Use");
      expect(JSON.stringify(sim.state.vms)).toBe(vmsBefore);
    } finally {
      await p.write("inventory/pve.yaml", yaml);
      await admin((c) => c.put(`/access/roles/${r.role}`, { privs: r.privs.join(",") }));
    }
  });
});
