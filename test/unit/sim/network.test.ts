// Node network staging, SDN zones/vnets and the firewall pieces of a VLAN isolation setup.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestSim, createVm, fixture, runTask, startTestSim } from "./helpers.ts";

let t: TestSim;
beforeAll(async () => {
  t = await startTestSim();
});
afterAll(() => t.close());

interface Iface {
  iface: string;
  type: string;
  active?: number;
  bridge_vlan_aware?: number;
}
const ifaces = async (type?: string): Promise<{ data: Iface[]; changes?: string }> =>
  (await t.call("GET", "/nodes/pve/network", type ? { type } : {})).body as { data: Iface[]; changes?: string };

describe("node network", () => {
  it("stages a new bridge in interfaces.new, shows the diff, applies it with a reload task", async () => {
    await t.ok("POST", "/nodes/pve/network", {
      iface: "vmbr1",
      type: "bridge",
      bridge_vlan_aware: 1,
      bridge_ports: "eno1",
      comments: "VLAN trunk",
    });
    const staged = await ifaces("bridge");
    expect(staged.data.find((i) => i.iface === "vmbr1")).toMatchObject({ type: "bridge", bridge_vlan_aware: 1 });
    expect(staged.data.find((i) => i.iface === "vmbr1")?.active).toBeUndefined();
    expect(staged.changes).toContain("+iface vmbr1 inet manual");
    expect(staged.changes).toContain("+\tbridge-vlan-aware yes");

    const apply = await runTask(t, "PUT", "/nodes/pve/network");
    expect(apply.exitstatus).toBe("OK");
    const after = await ifaces();
    expect(after.changes).toBeUndefined();
    expect(after.data.find((i) => i.iface === "vmbr1")?.active).toBe(1);
  });

  it("answers a duplicate interface with the recorded 400", async () => {
    const rec = fixture("pve62-39-network-create-400-exists.json");
    const r = await t.call("POST", "/nodes/pve/network", { iface: "eno1", type: "eth" });
    expect([r.status, r.body.errors]).toEqual([400, rec.response.body.errors]);
  });

  it("drops staged changes on revert and reports missing interfaces", async () => {
    await t.ok("POST", "/nodes/pve/network", { iface: "vmbr2", type: "bridge" });
    await t.ok("DELETE", "/nodes/pve/network");
    expect((await ifaces()).data.map((i) => i.iface)).not.toContain("vmbr2");
    const r = await t.call("DELETE", "/nodes/pve/network/vmbr7");
    expect([r.status, r.body.errors]).toEqual([400, { iface: "interface does not exist" }]);
  });

  it("allows one default gateway", async () => {
    const r = await t.call("POST", "/nodes/pve/network", {
      iface: "vmbr3",
      type: "bridge",
      cidr: "10.9.0.1/24",
      gateway: "10.9.0.254",
    });
    expect(r.body.errors).toEqual({ gateway: "Default gateway already exists on interface 'vmbr0'." });
    await t.ok("DELETE", "/nodes/pve/network");
  });
});

describe("SDN", () => {
  it("requires a bridge for VLAN zones and a unique tag per vnet", async () => {
    expect((await t.call("POST", "/cluster/sdn/zones", { zone: "lan", type: "vlan" })).body.errors).toEqual({
      bridge: "property is missing and it is not optional",
    });
    await t.ok("POST", "/cluster/sdn/zones", { zone: "lan", type: "vlan", bridge: "vmbr1" });
    expect((await t.call("POST", "/cluster/sdn/vnets", { vnet: "iot", zone: "lan" })).body.errors).toEqual({
      tag: "missing vlan tag",
    });
    await t.ok("POST", "/cluster/sdn/vnets", { vnet: "iot", zone: "lan", tag: 20, alias: "IoT" });
    const dup = await t.call("POST", "/cluster/sdn/vnets", { vnet: "guest", zone: "lan", tag: 20 });
    expect([dup.status, dup.body.errors]).toEqual([400, { tag: "tag 20 already exist in vnet iot" }]);
    const again = await t.call("POST", "/cluster/sdn/vnets", { vnet: "iot", zone: "lan", tag: 21 });
    expect(again.statusText).toBe("sdn vnet object ID 'iot' already defined");
  });

  it("keeps edits pending until PUT /cluster/sdn applies them; VMs can use a vnet only then", async () => {
    const pending = await t.ok<{ vnet: string; state?: string }[]>("GET", "/cluster/sdn/vnets", { pending: 1 });
    expect(pending.find((v) => v.vnet === "iot")?.state).toBe("new");
    expect(await t.ok("GET", "/cluster/sdn/vnets", { running: 1 })).toEqual([]);

    await createVm(t, 200, { net0: "virtio,bridge=iot,firewall=1" });
    expect((await runTask(t, "POST", "/nodes/pve/qemu/200/status/start")).exitstatus).toBe(
      "bridge 'iot' does not exist",
    );

    const apply = await t.ok<string>("PUT", "/cluster/sdn");
    expect(apply).toMatch(/:reloadnetworkall::root@pam!lab:$/);
    expect((await t.task(apply)).exitstatus).toBe("OK");
    expect((await t.ok<{ state?: string }[]>("GET", "/cluster/sdn/vnets", { pending: 1 }))[0]?.state).toBeUndefined();
    expect((await runTask(t, "POST", "/nodes/pve/qemu/200/status/start")).exitstatus).toBe("OK");
  });

  it("shows a changed tag as pending and refuses to delete a zone in use", async () => {
    await t.ok("PUT", "/cluster/sdn/vnets/iot", { tag: 30 });
    const iot = await t.ok<{ tag: number; state: string; pending: { tag: number } }>("GET", "/cluster/sdn/vnets/iot", {
      pending: 1,
    });
    expect(iot).toMatchObject({ tag: 20, state: "changed", pending: { tag: 30 } });
    expect((await t.call("DELETE", "/cluster/sdn/zones/lan")).statusText).toBe(
      "Can't remove zone lan: vnet iot is still using it",
    );
  });
});

describe("firewall", () => {
  it("builds a security group whose new rules go to the top", async () => {
    await t.ok("POST", "/cluster/firewall/groups", { group: "iot", comment: "IoT VLAN" });
    await t.ok("POST", "/cluster/firewall/groups/iot", { type: "in", action: "DROP", enable: 1, source: "+trusted" });
    await t.ok("POST", "/cluster/firewall/groups/iot", {
      type: "in",
      action: "ACCEPT",
      enable: 1,
      proto: "udp",
      dport: "53",
      source: "dns",
    });
    const rules = await t.ok<{ pos: number; action: string }[]>("GET", "/cluster/firewall/groups/iot");
    expect(rules.map((r) => [r.pos, r.action])).toEqual([
      [0, "ACCEPT"],
      [1, "DROP"],
    ]);
    await t.ok("PUT", "/cluster/firewall/groups/iot/0", { moveto: 2 });
    expect((await t.ok<{ action: string }[]>("GET", "/cluster/firewall/groups/iot")).map((r) => r.action)).toEqual([
      "DROP",
      "ACCEPT",
    ]);
    expect((await t.call("DELETE", "/cluster/firewall/groups/iot")).statusText).toBe(
      "Security group 'iot' is not empty",
    );
    expect((await t.call("POST", "/cluster/firewall/groups", { group: "iot" })).statusText).toBe(
      "security group 'iot' already exists",
    );
  });

  it("keeps IP sets and aliases, with PVE's duplicate errors", async () => {
    await t.ok("POST", "/cluster/firewall/ipset", { name: "trusted" });
    await t.ok("POST", "/cluster/firewall/ipset/trusted", { cidr: "10.0.10.0/24", comment: "trusted LAN" });
    expect((await t.call("POST", "/cluster/firewall/ipset/trusted", { cidr: "10.0.10.0/24" })).statusText).toBe(
      "address '10.0.10.0/24' already exists",
    );
    expect(await t.ok("GET", `/cluster/firewall/ipset/trusted/${encodeURIComponent("10.0.10.0/24")}`)).toMatchObject({
      cidr: "10.0.10.0/24",
    });
    await t.ok("POST", "/cluster/firewall/aliases", { name: "dns", cidr: "10.0.10.53" });
    expect((await t.call("POST", "/cluster/firewall/aliases", { name: "dns", cidr: "10.0.10.54" })).statusText).toBe(
      "alias 'dns' already exists",
    );
  });

  it("attaches a group to a VM and enables its firewall; a missing group is refused", async () => {
    await t.ok("POST", "/nodes/pve/qemu/200/firewall/rules", { type: "group", action: "iot", enable: 1 });
    expect(
      (await t.call("POST", "/nodes/pve/qemu/200/firewall/rules", { type: "group", action: "nope" })).statusText,
    ).toBe("security group 'nope' does not exist");
    await t.ok("PUT", "/nodes/pve/qemu/200/firewall/options", { enable: 1, policy_in: "DROP" });
    expect(await t.ok("GET", "/nodes/pve/qemu/200/firewall/options")).toEqual({ enable: 1, policy_in: "DROP" });
    await t.ok("POST", "/cluster/firewall/rules", {
      type: "in",
      action: "ACCEPT",
      enable: 1,
      source: "+trusted",
      dport: "8006",
      proto: "tcp",
    });
    expect(await t.ok("GET", "/cluster/firewall/rules")).toEqual([expect.objectContaining({ pos: 0, dport: "8006" })]);
    const cluster = await t.ok<{ digest?: string }>("GET", "/cluster/firewall/options");
    await t.ok("PUT", "/cluster/firewall/options", { enable: 1 });
    expect(cluster).toEqual({});
    expect(await t.ok("GET", "/cluster/firewall/options")).toEqual({ enable: 1 });
  });
});
