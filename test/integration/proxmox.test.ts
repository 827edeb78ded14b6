// End to end on the simulator: one `lab apply` builds the VLANs (bridge, SDN,
// firewall), a template from a cloud image served on loopback, one VM per VLAN,
// and configures the VMs' guests over SSH; the second apply changes nothing.
// Every request lab sent is checked against the official PVE schema.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pveSchema } from "../../src/proxmox/schema.ts";
import { ProxmoxClient } from "../../src/proxmox/client.ts";
import { checkCalls } from "../../src/proxmox/conformance.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import type { TestLabData } from "../hosts/hosts.ts";
import { REPO, changedCount, inHost, makeProject, type TestProject } from "./project.ts";
import { CHECKSUM, startSimProject, type SimProject } from "./sim-project.ts";

const VLANS = { Trusted: 10, IoT: 20, Guest: 30, Lab: 40 } as const;
const GUEST_PREFIX = "lab-it-sim";

let setup: SimProject;
let lab: TestLabData;
let sim: Simulator;
let p: TestProject;
let env: Record<string, string>;
let record: string;

function inventory(simUrl: string, imageUrl: string, vms: Record<string, unknown>) {
  return stringify({
    proxmox: {
      pve1: {
        url: simUrl,
        node: "pve",
        token_id: "root@pam!lab",
        token_secret: "pve1_token",
        ca_file: sim.caFile,
        vmid_range: { min: 300, max: 399 },
        task_timeout: 60,
      },
    },
    vlans: {
      Trusted: { tag: VLANS.Trusted, subnet: "10.10.10.0/24", gateway: "10.10.10.1" },
      IoT: { tag: VLANS.IoT, subnet: "10.10.20.0/24", gateway: "10.10.20.1", deny_to: ["Trusted"] },
      Guest: { tag: VLANS.Guest, subnet: "10.10.30.0/24", deny_to: ["Trusted", "IoT"] },
      Lab: { tag: VLANS.Lab, subnet: "10.10.40.0/24", isolated: true },
    },
    templates: { "debian-12": { endpoint: "pve1", image_url: imageUrl, checksum: CHECKSUM, vmid: 9100 } },
    vms,
    groups: { guests: { hosts: Object.keys(vms).map((v) => `g-${v}`) } },
    hosts: Object.fromEntries(
      Object.keys(vms).map((v) => [`g-${v}`, { vm: v, user: "lab", become: true, port: 2222 }]),
    ),
  });
}

const PLAYBOOK = `
import { definePlaybook, inline, file } from "@lab";
import { proxmoxLab } from "${join(REPO, "roles/proxmox-lab.ts")}";
export default definePlaybook({ name: "pve", plays: [
  { name: "proxmox", hosts: "proxmox", roles: (h) => [proxmoxLab({ endpoint: h.name, agentTimeoutSec: 60 })] },
  { name: "guests", hosts: "guests", roles: (h) => [inline([file({ path: "/etc/lab-guest", content: "configured " + h.name + "\\n", mode: "0640" })])] },
] });
`;

const vmsAll = (keyFile: string) =>
  Object.fromEntries(
    Object.keys(VLANS).map((v) => [
      `vm-${v.toLowerCase()}`,
      {
        template: "debian-12",
        vlan: v,
        ssh_keys: [`${keyFile}.pub`],
        ...(v === "Lab" ? { clone: "full", disk: 12 } : {}),
      },
    ]),
  );

beforeAll(async () => {
  setup = await startSimProject({
    guestPrefix: GUEST_PREFIX,
    playbook: PLAYBOOK,
    inventory: (x) => {
      ({ sim, lab } = x);
      return inventory(x.sim.url, x.imageUrl, vmsAll(x.lab.keyFile));
    },
  });
  ({ p, env, record } = setup);
}, 300_000);

afterAll(async () => {
  await setup?.stop();
});

describe("lab apply on the Proxmox simulator", () => {
  it("builds VLANs, a template and one VM per VLAN, configures the guests, then changes nothing", async () => {
    const plan = await p.lab(["plan", "playbooks/pve.ts"], { env });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain("pve:network/pve/vmbr0: bridge_vids (none) -> 10 20 30 40");
    expect(plan.stdout).toContain("g-vm-trusted");
    expect(plan.stdout).toContain("host not created yet");
    expect(Object.keys(sim.state.vms)).toHaveLength(0);

    const first = await p.applyJson(["playbooks/pve.ts"], { env });
    expect(
      first.run.code,
      first.run.stderr +
        JSON.stringify(
          first.report.steps.filter((s) => s.status !== "changed" && s.status !== "ok"),
          null,
          1,
        ),
    ).toBe(0);
    for (const v of Object.keys(VLANS)) {
      const guest = first.report.hosts[`g-vm-${v.toLowerCase()}`];
      expect(guest?.changed, v).toBe(1);
    }
    const second = await p.applyJson(["playbooks/pve.ts"], { env });
    expect(second.run.code).toBe(0);
    expect(changedCount(second.report), JSON.stringify(second.report.steps.filter((s) => s.status !== "ok"))).toBe(0);
  });

  it("put every NIC on its VLAN: tags read back from Proxmox, firewall on, policy in place", () => {
    const byName = new Map(Object.values(sim.state.vms).map((vm) => [String(vm.config.name), vm]));
    for (const [vlan, tag] of Object.entries(VLANS)) {
      const vm = byName.get(`vm-${vlan.toLowerCase()}`);
      expect(vm, vlan).toBeDefined();
      expect(vm!.config.net0).toMatch(new RegExp(`bridge=vmbr0,firewall=1,tag=${tag}$`));
      expect(vm!.status).toBe("running");
    }
    expect(byName.get("vm-lab")!.config.scsi0).toContain("size=12G");
    const fw = sim.state.firewall;
    expect(Object.keys(fw.groups).sort()).toEqual(["vlan-guest", "vlan-iot", "vlan-lab", "vlan-trusted"]);
    const rules = (g: string) =>
      fw.groups[g]!.rules.map((r) => `${String(r.type)} ${String(r.action)} ${String(r.dest ?? r.source)}`);
    expect(rules("vlan-iot")).toContain("out DROP +vlan-trusted");
    expect(rules("vlan-trusted")).toEqual(
      expect.arrayContaining(["in DROP +vlan-iot", "in DROP +vlan-guest", "in DROP +vlan-lab"]),
    );
    expect(rules("vlan-lab")).toEqual(
      expect.arrayContaining(["out DROP +vlan-trusted", "out DROP +vlan-iot", "out DROP +vlan-guest"]),
    );
  });

  it("configured each guest over SSH, with its host key pinned from the guest agent", async () => {
    for (const v of Object.keys(VLANS)) {
      const vm = Object.values(sim.state.vms).find((x) => x.config.name === `vm-${v.toLowerCase()}`)!;
      const r = await inHost(`${GUEST_PREFIX}-${vm.vmid}`, "cat /etc/lab-guest; stat -c %a /etc/lab-guest");
      expect(r.stdout).toBe(`configured g-vm-${v.toLowerCase()}\n640\n`);
    }
    const pinned = await readFile(lab.knownHostsFile, "utf8");
    expect(pinned).toMatch(/\[127\.77\.\d+\.\d+\]:2222 ssh-ed25519 /);
  });

  it("sent only requests the real PVE API accepts (schema conformance)", async () => {
    const schema = pveSchema();
    const calls = await setup.calls();
    expect(calls.length).toBeGreaterThan(30);
    const problems: string[] = [];
    for (const c of calls) {
      const m = schema.match(c.path);
      const info = m && schema.method(m.template, c.method);
      if (!m || !info) {
        problems.push(`${c.method} ${c.path}: no such endpoint`);
        continue;
      }
      for (const k of c.keys)
        if (!schema.param(m.template, c.method, k)) problems.push(`${c.method} ${m.template}: unknown parameter ${k}`);
      for (const k of schema.required(m.template, c.method))
        if (!c.keys.includes(k) && !(k in m.pathParams)) problems.push(`${c.method} ${m.template}: missing ${k}`);
      if (c.status === 400 || c.status === 501) problems.push(`${c.method} ${c.path}: rejected with ${c.status}`);
    }
    expect(problems).toEqual([]);
    // Values (type, format, pattern) and replies (strictly) too.
    expect(calls.filter((c) => "reply" in c).length).toBeGreaterThan(30);
    expect(checkCalls(calls).map((p) => p.problem)).toEqual([]);
  });
});

describe("changes and guards", () => {
  it("changes a running VM's spec in place and says it takes effect at reboot", async () => {
    const inv = await readFile(join(p.root, "inventory/pve.yaml"), "utf8");
    await writeFile(
      join(p.root, "inventory/pve.yaml"),
      inv.replace(/(vm-iot:\n(?: {4}.*\n)*? {4}template: debian-12\n)/, "$1    cores: 2\n"),
    );
    try {
      const plan = await p.lab(["plan", "playbooks/pve.ts", "--limit", "pve1"], { env });
      expect(plan.stdout).toContain("pve:vm/vm-iot: cores: 1 -> 2 (pending: takes effect after a reboot)");
      const apply = await p.applyJson(["playbooks/pve.ts", "--limit", "pve1"], { env });
      expect(apply.run.code, apply.run.stderr).toBe(0);
      const again = await p.applyJson(["playbooks/pve.ts", "--limit", "pve1"], { env });
      expect(changedCount(again.report)).toBe(0);
      expect(again.report.steps.find((s) => s.id === "pve:vm/vm-iot")!.reason).toContain("pending until reboot: cores");
    } finally {
      // The inventory is shared by the tests after this one.
      await writeFile(join(p.root, "inventory/pve.yaml"), inv);
    }
  });

  it("names a VM locked by another task and what to do", async () => {
    const vm = Object.values(sim.state.vms).find((x) => x.config.name === "vm-guest")!;
    vm.config.lock = "backup";
    const r = await p.lab(["plan", "playbooks/pve.ts", "--limit", "pve1"], { env });
    delete vm.config.lock;
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`VM vm-guest (${vm.vmid}) is locked (backup) by another task`);
    expect(r.stdout).toContain(`qm unlock ${vm.vmid}`);
  });

  it("checks the token's privileges before changing anything", async () => {
    const admin = await ProxmoxClient.connect({
      url: sim.url,
      auth: { tokenId: sim.tokenId, tokenSecret: sim.tokenSecret },
      tls: { caFile: sim.caFile },
    });
    const token = await admin.post<{ value: string }>("/access/users/root@pam/token/limited", { privsep: 1 });
    await admin.put("/access/acl", { path: "/vms", roles: "PVEVMAdmin", tokens: "root@pam!limited" });
    admin.close();
    const inv = await readFile(join(p.root, "inventory/pve.yaml"), "utf8");
    await writeFile(
      join(p.root, "inventory/pve.yaml"),
      inv
        .replace("root@pam!lab", "root@pam!limited")
        .replace("pve1_token", "limited_token")
        .replace(/vms:\n/, "vms:\n  vm-new: { template: debian-12, vlan: Lab }\n"),
    );
    expect((await p.lab(["secrets", "set", "limited_token"], { env, stdin: token.value })).code).toBe(0);
    const vmsBefore = Object.keys(sim.state.vms).length;
    let r;
    try {
      r = await p.lab(["apply", "-y", "playbooks/pve.ts", "--limit", "pve1"], { env });
    } finally {
      await writeFile(join(p.root, "inventory/pve.yaml"), inv);
    }
    expect(r.code).toBe(3);
    expect(r.stdout).toContain("the API token lacks privileges this playbook needs");
    expect(r.stdout).toMatch(/\/sdn: SDN\.Audit, SDN\.Allocate/);
    expect(r.stdout).not.toMatch(/\/vms: /);
    expect(Object.keys(sim.state.vms)).toHaveLength(vmsBefore);
  });
});

describe("bad input and faults", () => {
  it("refuses a VM on an undefined VLAN at plan time, with its position, contacting nothing", async () => {
    const before = (await readFile(record, "utf8")).length;
    const inv = await readFile(join(p.root, "inventory/pve.yaml"), "utf8");
    await writeFile(
      join(p.root, "inventory/bad.yaml"),
      stringify({ vms: { "vm-typo": { template: "debian-12", vlan: "IOT" } } }),
    );
    let r;
    try {
      r = await p.lab(["plan", "playbooks/pve.ts"], { env });
    } finally {
      await writeFile(join(p.root, "inventory/bad.yaml"), "{}\n");
    }
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'inventory/bad.yaml:4:11: VM vm-typo: VLAN "IOT" is not defined, so its NIC would have no valid tag',
    );
    expect(r.stderr).toContain("defined VLANs: Trusted, IoT, Guest, Lab");
    expect((await readFile(record, "utf8")).length).toBe(before);
    void inv;
  });

  it("bounds a Proxmox task that hangs by task_timeout, and the other hosts finish", async () => {
    const slow = await startSimulator({
      stateDir: await mkdtemp(join(tmpdir(), "lab-sim-slow-")),
      port: 0,
      taskDelayMs: 60_000,
      pbsPort: false,
    });
    try {
      const q = await makeProject(lab, {
        files: { "playbooks/pve.ts": PLAYBOOK.replace(`hosts: "guests"`, `hosts: "web1"`) },
      });
      const inv = inventory(slow.url, "http://127.0.0.1:1/never.qcow2", {})
        .replace(sim.caFile, slow.caFile)
        .replace("task_timeout: 60", "task_timeout: 2");
      await q.write("inventory/pve.yaml", inv);
      const qenv = { LAB_AGE_KEY_FILE: join(q.root, "age.key") };
      expect((await q.lab(["secrets", "init"], { env: qenv })).code).toBe(0);
      expect((await q.lab(["secrets", "set", "pve1_token"], { env: qenv, stdin: slow.tokenSecret })).code).toBe(0);
      const t0 = Date.now();
      const r = await q.applyJson(["playbooks/pve.ts"], { env: qenv });
      expect(Date.now() - t0).toBeLessThan(60_000);
      expect(r.run.code).toBe(3);
      const failed = r.report.steps.find((s) => s.host === "pve1" && s.status === "failed")!;
      expect(failed.reason).toMatch(/still running after 2 s/);
      expect(r.report.hosts.web1!.status).toMatch(/ok|changed/);
    } finally {
      await slow.stop();
    }
  });

  it("stops at a wrong TLS pin with a clear error", async () => {
    const inv = await readFile(join(p.root, "inventory/pve.yaml"), "utf8");
    const fp = Array.from({ length: 32 }, () => "AB").join(":");
    await writeFile(join(p.root, "inventory/pve.yaml"), inv.replace(/ca_file: .*\n/, `fingerprint: "${fp}"\n`));
    let r;
    try {
      r = await p.lab(["plan", "playbooks/pve.ts", "--limit", "pve1"], { env });
    } finally {
      await writeFile(join(p.root, "inventory/pve.yaml"), inv);
    }
    expect(r.code).toBe(3);
    expect(r.stdout + r.stderr).toMatch(/fingerprint/i);
    expect(r.stdout + r.stderr).toContain(sim.fingerprint);
  });

  it("reports a VM whose clone fails half-way, cleans it up, and still builds the others", async () => {
    const inv = await readFile(join(p.root, "inventory/pve.yaml"), "utf8");
    const more = inventory(sim.url, "http://127.0.0.1:1/unused", {
      ...vmsAll(lab.keyFile),
      "vm-extra1": { template: "debian-12", vlan: "IoT" },
      "vm-extra2": { template: "debian-12", vlan: "Guest" },
    });
    // Keep the template's image URL: only the VMs change.
    await writeFile(
      join(p.root, "inventory/pve.yaml"),
      more
        .replace("http://127.0.0.1:1/unused", /image_url: (\S+)/.exec(inv)![1]!)
        .replace(/guests:\n.*\n(.*\n)*?hosts:/, (m) => m),
    );
    try {
      sim.faults.addTask({ type: "qmclone", count: 1, message: "clone failed: storage went away" });
      const r = await p.applyJson(["playbooks/pve.ts", "--limit", "pve1"], { env });
      expect(r.run.code).toBe(3);
      const extra1 = r.report.steps.find((s) => s.id === "pve:vm/vm-extra1")!;
      expect(extra1.status).toBe("failed");
      expect(extra1.reason).toContain("storage went away");
      expect(extra1.reason).toContain("removed");
      expect(r.report.steps.find((s) => s.id === "pve:vm/vm-extra2")!.status).toBe("changed");
      expect(Object.values(sim.state.vms).filter((v) => v.config.name === "vm-extra1")).toHaveLength(0);
      // The next run builds it.
      const again = await p.applyJson(["playbooks/pve.ts", "--limit", "pve1"], { env });
      expect(again.run.code).toBe(0);
      expect(again.report.steps.find((s) => s.id === "pve:vm/vm-extra1")!.status).toBe("changed");
    } finally {
      await writeFile(join(p.root, "inventory/pve.yaml"), inv);
    }
  });
});
