// A three-node cluster behind one API: /cluster/status, per-node local storage and a
// shared one, guests of each node, clone with `target` and `migrate` with PVE's rules
// (qemu-server API2/Qemu.pm clone_vm / migrate_vm, PVE/QemuMigrate.pm).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestSim, createVm, runTask, startTestSim } from "./helpers.ts";

let t: TestSim;
beforeAll(async () => {
  t = await startTestSim({ nodes: ["pve", "pve2", "pve3"], statusCycleMs: 0 });
});
afterAll(() => t.close());

type Res = { id: string; type: string; node?: string; vmid?: number; storage?: string; shared?: number };
const vmNode = async (vmid: number) =>
  (await t.ok<Res[]>("GET", "/cluster/resources", { type: "vm" })).find((r) => r.vmid === vmid)?.node;

describe("cluster view", () => {
  it("/cluster/status: one cluster entry and one node entry per node, the answering node local", async () => {
    const status = await t.ok<Record<string, unknown>[]>("GET", "/cluster/status");
    expect(status[0]).toMatchObject({ type: "cluster", name: "lab-sim", nodes: 3, quorate: 1 });
    expect(status.slice(1).map((s) => [s.type, s.name, s.nodeid, s.local, s.online])).toEqual([
      ["node", "pve", 1, 1, 1],
      ["node", "pve2", 2, 0, 1],
      ["node", "pve3", 3, 0, 1],
    ]);
    expect((await t.ok<{ node: string }[]>("GET", "/nodes")).map((n) => n.node)).toEqual(["pve", "pve2", "pve3"]);
  });

  it("each node has local and local-lvm; the storage 'shared' is on every node, shared", async () => {
    for (const n of ["pve", "pve2", "pve3"]) {
      const st = await t.ok<{ storage: string; shared: number }[]>("GET", `/nodes/${n}/storage`);
      expect(st.map((s) => [s.storage, s.shared])).toEqual([
        ["local", 0],
        ["local-lvm", 0],
        ["shared", 1],
      ]);
    }
    const res = await t.ok<Res[]>("GET", "/cluster/resources", { type: "storage" });
    expect(res.filter((r) => r.storage === "shared").map((r) => r.id)).toEqual([
      "storage/pve/shared",
      "storage/pve2/shared",
      "storage/pve3/shared",
    ]);
  });

  it("a guest belongs to its node: its disk is in that node's local-lvm only, other nodes do not know it", async () => {
    await createVm(t, 200);
    await runTask(t, "POST", "/nodes/pve2/qemu", { vmid: 201, memory: 512, scsi0: "local-lvm:1" });
    expect(await vmNode(200)).toBe("pve");
    expect(await vmNode(201)).toBe("pve2");
    const disks = async (n: string) =>
      (await t.ok<{ volid: string }[]>("GET", `/nodes/${n}/storage/local-lvm/content`)).map((v) => v.volid);
    expect(await disks("pve")).toEqual(["local-lvm:vm-200-disk-0"]);
    expect(await disks("pve2")).toEqual(["local-lvm:vm-201-disk-0"]);
    expect((await t.ok<{ vmid: number }[]>("GET", "/nodes/pve2/qemu")).map((v) => v.vmid)).toEqual([201]);
    // The wrong node: pmxcfs has no such config file under that node (500, as the proxied node answers).
    const wrong = await t.call("GET", "/nodes/pve2/qemu/200/config");
    expect([wrong.status, wrong.statusText]).toEqual([
      500,
      "Configuration file 'nodes/pve2/qemu-server/200.conf' does not exist",
    ]);
    const unknown = await t.call("GET", "/nodes/pve9/qemu");
    expect([unknown.status, unknown.statusText]).toEqual([500, "no such cluster node 'pve9'"]);
  });
});

describe("clone with target", () => {
  beforeAll(async () => {
    // A template on local storage and one wholly on shared storage (disk and cloud-init drive).
    await createVm(t, 9000, { ide2: "local-lvm:cloudinit" });
    await runTask(t, "POST", "/nodes/pve/qemu/9000/template");
    await createVm(t, 9001, { scsi0: "shared:1", ide2: "shared:cloudinit" });
    await runTask(t, "POST", "/nodes/pve/qemu/9001/template");
  });

  it("refuses a source with local volumes, even for a full clone", async () => {
    for (const full of [0, 1]) {
      const r = await t.call("POST", "/nodes/pve/qemu/9000/clone", { newid: 300, target: "pve2", full });
      expect([r.status, r.statusText]).toEqual([500, "can't clone VM to node 'pve2' (VM uses local storage)"]);
    }
  });

  it("refuses a non-shared target storage and an unknown node", async () => {
    const r = await t.call("POST", "/nodes/pve/qemu/9001/clone", {
      newid: 300,
      target: "pve2",
      full: 1,
      storage: "local-lvm",
    });
    expect([r.status, r.statusText]).toEqual([500, "can't clone to non-shared storage 'local-lvm'"]);
    const n = await t.call("POST", "/nodes/pve/qemu/9001/clone", { newid: 300, target: "pve9" });
    expect([n.status, n.statusText]).toEqual([500, "no such cluster node 'pve9'"]);
  });

  it("lands a linked clone of a shared template on the target node; target = the local node is no target", async () => {
    const r = await runTask(t, "POST", "/nodes/pve/qemu/9001/clone", { newid: 300, name: "far", target: "pve3" });
    expect(r.exitstatus).toBe("OK");
    expect(await vmNode(300)).toBe("pve3");
    const cfg = await t.ok<Record<string, string>>("GET", "/nodes/pve3/qemu/300/config");
    expect(cfg.scsi0).toMatch(/^shared:9001\/base-9001-disk-0\.qcow2\/vm-300-disk-0,/);
    expect((await runTask(t, "POST", "/nodes/pve/qemu/9000/clone", { newid: 301, target: "pve" })).exitstatus).toBe(
      "OK",
    );
    expect(await vmNode(301)).toBe("pve");
  });

  it("a full clone to shared storage lands on the target with its disk there", async () => {
    const r = await runTask(t, "POST", "/nodes/pve/qemu/9001/clone", {
      newid: 302,
      target: "pve2",
      full: 1,
      storage: "shared",
    });
    expect(r.exitstatus).toBe("OK");
    expect(await vmNode(302)).toBe("pve2");
  });
});

describe("migrate", () => {
  it("moves a stopped VM offline, copying its local disks to the target's local-lvm", async () => {
    await createVm(t, 400);
    const r = await runTask(t, "POST", "/nodes/pve/qemu/400/migrate", { target: "pve2" });
    expect(r.exitstatus).toBe("OK");
    expect(r.log).toEqual(
      expect.arrayContaining([
        "starting migration of VM 400 to node 'pve2' (192.168.100.3)",
        "found local disk 'local-lvm:vm-400-disk-0' (attached)",
      ]),
    );
    expect(await vmNode(400)).toBe("pve2");
    const on = async (n: string) =>
      (await t.ok<{ volid: string }[]>("GET", `/nodes/${n}/storage/local-lvm/content`, { vmid: 400 })).length;
    expect([await on("pve"), await on("pve2")]).toEqual([0, 1]);
    // Now addressed on pve, it is not there.
    const old = await t.call("GET", "/nodes/pve/qemu/400/status/current");
    expect(old.statusText).toBe("Configuration file 'nodes/pve/qemu-server/400.conf' does not exist");
    // online=1 on a stopped VM: a warning, then an offline migration.
    const back = await runTask(t, "POST", "/nodes/pve2/qemu/400/migrate", { target: "pve", online: 1 });
    expect(back.exitstatus).toBe("WARNINGS: 1");
    expect(await vmNode(400)).toBe("pve");
  });

  it("a running VM needs online=1, and with-local-disks for its local disks; then it moves running", async () => {
    await createVm(t, 401);
    expect((await runTask(t, "POST", "/nodes/pve/qemu/401/status/start")).exitstatus).toBe("OK");
    const r = await t.call("POST", "/nodes/pve/qemu/401/migrate", { target: "pve3" });
    expect([r.status, r.statusText]).toEqual([500, "can't migrate running VM without --online"]);
    const noDisks = await runTask(t, "POST", "/nodes/pve/qemu/401/migrate", { target: "pve3", online: 1 });
    expect(noDisks.exitstatus).toBe("can't live migrate attached local disks without with-local-disks option");
    expect(await vmNode(401)).toBe("pve");
    const ok = await runTask(t, "POST", "/nodes/pve/qemu/401/migrate", {
      target: "pve3",
      online: 1,
      "with-local-disks": 1,
    });
    expect(ok.exitstatus).toBe("OK");
    expect(await vmNode(401)).toBe("pve3");
    expect((await t.ok<{ status: string }>("GET", "/nodes/pve3/qemu/401/status/current")).status).toBe("running");
  });

  it("fails on the local node, an unknown node, and the wrong source node as PVE does", async () => {
    const self = await t.call("POST", "/nodes/pve/qemu/400/migrate", { target: "pve" });
    expect([self.status, self.body.errors]).toEqual([400, { target: "target is local node." }]);
    const none = await t.call("POST", "/nodes/pve/qemu/400/migrate", { target: "pve9" });
    expect(none.statusText).toBe("no such cluster node 'pve9'");
    const wrong = await t.call("POST", "/nodes/pve2/qemu/400/migrate", { target: "pve3" });
    expect(wrong.statusText).toBe("Configuration file 'nodes/pve2/qemu-server/400.conf' does not exist");
  });

  it("a VM on shared storage migrates without copying; a local linked clone cannot leave its base", async () => {
    const r = await runTask(t, "POST", "/nodes/pve3/qemu/300/migrate", { target: "pve" });
    expect(r.exitstatus).toBe("OK");
    expect(r.log.some((l) => l.startsWith("found local disk"))).toBe(false);
    const linked = await runTask(t, "POST", "/nodes/pve/qemu/301/migrate", { target: "pve2" });
    expect(linked.exitstatus).toMatch(/^can't migrate local disk 'local-lvm:base-9000-disk-0\/vm-301-disk-0'/);
    expect(await vmNode(301)).toBe("pve");
  });
});

describe("single node (the default)", () => {
  it("has one node and no shared storage", async () => {
    const one = await startTestSim();
    try {
      expect((await one.ok<{ node: string }[]>("GET", "/nodes")).map((n) => n.node)).toEqual(["pve"]);
      const st = await one.ok<{ storage: string }[]>("GET", "/nodes/pve/storage");
      expect(st.map((s) => s.storage)).toEqual(["local", "local-lvm"]);
    } finally {
      await one.close();
    }
  });
});
