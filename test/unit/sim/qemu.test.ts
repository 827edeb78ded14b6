// QEMU behaviours from ENDPOINTS.md: create conflicts, clone lock, templates,
// pending changes, digest, resize, destroy, guest agent, task logs and faults.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GuestBackend } from "../../../src/sim/index.ts";
import { type TestSim, createVm, fixture, runTask, startTestSim } from "./helpers.ts";

const started: number[] = [];
const guests: GuestBackend = {
  start: (vm) => (started.push(vm.vmid), Promise.resolve({ ip: `127.0.0.${vm.vmid % 200}` })),
  stop: () => Promise.resolve(),
};

let t: TestSim;
beforeAll(async () => {
  t = await startTestSim({ guestBackend: guests });
});
afterAll(() => t.close());

const config = (vmid: number, extra: Record<string, unknown> = {}): Promise<Record<string, string>> =>
  t.ok("GET", `/nodes/pve/qemu/${vmid}/config`, extra);

describe("create", () => {
  it("allocates disks, a cloud-init drive, a MAC, and imports a disk", async () => {
    await createVm(t, 100, { ide2: "local-lvm:cloudinit", ipconfig0: "ip=dhcp", agent: 1 });
    const c = await config(100);
    expect(c.scsi0).toBe("local-lvm:vm-100-disk-0,size=1G");
    expect(c.ide2).toBe("local-lvm:vm-100-cloudinit,media=cdrom");
    expect(c.net0).toMatch(/^virtio=BC:24:11:[0-9A-F:]{8},bridge=vmbr0$/);
    expect(c.digest).toMatch(/^[0-9a-f]{40}$/);
    const imported = await runTask(t, "POST", "/nodes/pve/qemu", {
      vmid: 109,
      scsi0: "local-lvm:0,import-from=local-lvm:vm-100-disk-0",
    });
    expect(imported.exitstatus).toBe("OK");
    expect((await config(109)).scsi0).toBe("local-lvm:vm-109-disk-0,size=1G");
  });

  it("fails an import from a missing volume inside the task and leaves no VM", async () => {
    const r = await runTask(t, "POST", "/nodes/pve/qemu", {
      vmid: 108,
      scsi0: "local-lvm:0,import-from=local:import/none.qcow2",
    });
    expect(r.exitstatus).toBe("volume 'local:import/none.qcow2' does not exist");
    expect(r.log.at(-1)).toBe("TASK ERROR: volume 'local:import/none.qcow2' does not exist");
    expect((await t.call("GET", "/nodes/pve/qemu/108/config")).status).toBe(500);
  });

  it("refuses an existing VMID synchronously with the recorded 500", async () => {
    const rec = fixture("pve62-11-qemu-create-500-already-exists.json");
    const r = await t.call("POST", "/nodes/pve/qemu", { vmid: 100 });
    expect([r.status, r.statusText]).toEqual([500, rec.response.reason]);
  });
});

describe("templates and clones", () => {
  beforeAll(async () => {
    await createVm(t, 9000, { ide2: "local-lvm:cloudinit" });
    expect((await runTask(t, "POST", "/nodes/pve/qemu/9000/template")).exitstatus).toBe("OK");
  });

  it("turns disks into base images and refuses to start a template (task error)", async () => {
    expect((await config(9000)).scsi0).toBe("local-lvm:base-9000-disk-0,size=1G");
    const r = await runTask(t, "POST", "/nodes/pve/qemu/9000/status/start");
    expect(r.exitstatus).toBe("you can't start a vm if it's a template");
  });

  it("holds lock: clone on the target while the clone task runs", async () => {
    await t.restart({ taskDelayMs: 150, guestBackend: guests });
    try {
      const upid = await t.ok<string>("POST", "/nodes/pve/qemu/9000/clone", { newid: 120, name: "web-1" });
      expect(upid).toMatch(/^UPID:pve:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmclone:9000:root@pam!lab:$/);
      const during = await t.ok<{ lock?: string }>("GET", "/nodes/pve/qemu/120/status/current");
      expect(during.lock).toBe("clone");
      const put = await t.call("PUT", "/nodes/pve/qemu/120/config", { cores: 2 });
      expect([put.status, put.statusText]).toEqual([500, "VM is locked (clone)"]);
      const start = await t.ok<string>("POST", "/nodes/pve/qemu/120/status/start");
      expect((await t.task(start)).exitstatus).toBe("VM is locked (clone)");
      expect((await t.task(upid)).exitstatus).toBe("OK");
    } finally {
      await t.restart({ taskDelayMs: 20, guestBackend: guests });
    }
    const c = await config(120);
    expect(c.lock).toBeUndefined();
    expect(c.name).toBe("web-1");
    expect(c.scsi0).toBe("local-lvm:base-9000-disk-0/vm-120-disk-0,size=1G");
    expect(c.ide2).toBe("local-lvm:vm-120-cloudinit,media=cdrom");
    expect(c.net0).not.toBe((await config(9000)).net0);
    expect(c.template).toBeUndefined();
  });

  it("names an unnamed clone Copy-of-VM-<name> and makes full clones of non-templates", async () => {
    await createVm(t, 130);
    expect((await runTask(t, "POST", "/nodes/pve/qemu/130/clone", { newid: 131 })).exitstatus).toBe("OK");
    const c = await config(131);
    expect(c.name).toBe("Copy-of-VM-vm130");
    expect(c.scsi0).toBe("local-lvm:vm-131-disk-0,size=1G");
  });

  it("rejects storage for a linked clone and an existing target, synchronously", async () => {
    const linked = await t.call("POST", "/nodes/pve/qemu/9000/clone", { newid: 140, storage: "local-lvm" });
    expect([linked.status, linked.statusText]).toEqual([500, "parameter 'storage' not allowed for linked clones"]);
    const exists = await t.call("POST", "/nodes/pve/qemu/9000/clone", { newid: 120 });
    expect(exists.statusText).toBe("unable to create VM 120: config file already exists");
  });

  it("keeps a template whose base volume linked clones still use", async () => {
    const r = await runTask(t, "DELETE", "/nodes/pve/qemu/9000");
    expect(r.exitstatus).toBe("base volume 'base-9000-disk-0' is still in use by linked cloned");
    expect((await config(9000)).template).toBe(1);
  });

  it("refuses disk options together with a restore archive", async () => {
    const r = await t.call("POST", "/nodes/pve/qemu", {
      vmid: 160,
      archive: "local:backup/vzdump-qemu-100.vma.zst",
      scsi0: "local-lvm:1",
    });
    expect([r.status, r.body.errors]).toEqual([400, { scsi0: "option conflicts with option 'archive'" }]);
  });

  it("removes the half-made target when a clone fails half-way (task fault)", async () => {
    t.sim.faults.addTask({ type: "qmclone", message: "copy failed: No space left on device" });
    const r = await runTask(t, "POST", "/nodes/pve/qemu/9000/clone", { newid: 141 });
    expect(r.exitstatus).toBe("copy failed: No space left on device");
    expect((await t.call("GET", "/nodes/pve/qemu/141/config")).status).toBe(500);
    expect(t.sim.state.volumes["local-lvm"]!.some((v) => v.volid.includes("vm-141-"))).toBe(false);
  });
});

describe("config updates", () => {
  it("applies to a stopped VM at once; a stale digest is refused", async () => {
    const before = await config(100);
    await t.ok("PUT", "/nodes/pve/qemu/100/config", { cores: 2, delete: "ipconfig0", digest: before.digest });
    const after = await config(100);
    expect(after.cores).toBe(2);
    expect(after.ipconfig0).toBeUndefined();
    const stale = await t.call("PUT", "/nodes/pve/qemu/100/config", { cores: 3, digest: before.digest });
    expect(stale.statusText).toBe("detected modified configuration - file changed by other user? Try again.");
  });

  it("returns a qmconfig UPID for POST and runs the same checks inside the task", async () => {
    const r = await runTask(t, "POST", "/nodes/pve/qemu/100/config", { memory: 1024, digest: "0".repeat(40) });
    expect(r.exitstatus).toBe("detected modified configuration - file changed by other user? Try again.");
    expect((await runTask(t, "POST", "/nodes/pve/qemu/100/config", { memory: 1024 })).exitstatus).toBe("OK");
  });

  it("keeps non-hotpluggable changes of a running VM pending until reboot", async () => {
    expect((await runTask(t, "POST", "/nodes/pve/qemu/100/status/start")).exitstatus).toBe("OK");
    await t.ok("PUT", "/nodes/pve/qemu/100/config", { memory: 2048, name: "renamed" });
    expect((await config(100, { current: 1 })).memory).toBe("1024");
    expect((await config(100)).memory).toBe("2048");
    expect((await config(100, { current: 1 })).name).toBe("renamed");
    const pending = await t.ok<{ key: string; value?: string; pending?: string }[]>(
      "GET",
      "/nodes/pve/qemu/100/pending",
    );
    expect(pending.find((p) => p.key === "memory")).toEqual({ key: "memory", value: "1024", pending: "2048" });
    expect((await runTask(t, "POST", "/nodes/pve/qemu/100/status/reboot")).exitstatus).toBe("OK");
    expect((await config(100, { current: 1 })).memory).toBe("2048");
  });

  it("hides cipassword and regenerates a MAC when net0 is set without one (as PVE does)", async () => {
    await t.ok("PUT", "/nodes/pve/qemu/109/config", { cipassword: "s3cret", net0: "virtio,bridge=vmbr0" });
    const first = await config(109);
    expect(first.cipassword).toBe("**********");
    await t.ok("PUT", "/nodes/pve/qemu/109/config", { net0: "virtio,bridge=vmbr0" });
    expect((await config(109)).net0).not.toBe(first.net0);
  });
});

describe("power and agent", () => {
  it("reports 'already running' as a task error and sync 500s for reboot of a stopped VM", async () => {
    expect((await runTask(t, "POST", "/nodes/pve/qemu/100/status/start")).exitstatus).toBe("VM 100 already running");
    const r = await t.call("POST", "/nodes/pve/qemu/131/status/reboot");
    expect([r.status, r.statusText]).toEqual([500, "VM 131 not running"]);
    expect((await runTask(t, "POST", "/nodes/pve/qemu/131/status/stop")).exitstatus).toBe("OK");
  });

  it("answers the guest agent with the backend's address, and PVE's errors otherwise", async () => {
    expect(started).toContain(100);
    const ifaces = await t.ok<{ result: { name: string; "ip-addresses": { "ip-address": string }[] }[] }>(
      "GET",
      "/nodes/pve/qemu/100/agent/network-get-interfaces",
    );
    expect(ifaces.result.find((i) => i.name === "eth0")?.["ip-addresses"][0]?.["ip-address"]).toBe("127.0.0.100");
    expect((await t.call("GET", "/nodes/pve/qemu/131/agent/network-get-interfaces")).statusText).toBe(
      "No QEMU guest agent configured",
    );
    await t.ok("PUT", "/nodes/pve/qemu/131/config", { agent: "enabled=1" });
    expect((await t.call("POST", "/nodes/pve/qemu/131/agent", { command: "ping" })).statusText).toBe(
      "VM 131 is not running",
    );
  });

  it("refuses to start a VM on a bridge that does not exist", async () => {
    await createVm(t, 150, { net0: "virtio,bridge=vmbr9" });
    expect((await runTask(t, "POST", "/nodes/pve/qemu/150/status/start")).exitstatus).toBe(
      "bridge 'vmbr9' does not exist",
    );
  });
});

describe("resize and destroy", () => {
  it("grows a disk and refuses to shrink it", async () => {
    expect((await runTask(t, "PUT", "/nodes/pve/qemu/109/resize", { disk: "scsi0", size: "+1G" })).exitstatus).toBe(
      "OK",
    );
    expect((await config(109)).scsi0).toContain("size=2G");
    const r = await t.call("PUT", "/nodes/pve/qemu/109/resize", { disk: "scsi0", size: "1G" });
    expect(r.statusText).toBe("shrinking disks is not supported");
  });

  it("refuses to destroy a running VM, destroys a stopped one with its volumes", async () => {
    expect((await t.call("DELETE", "/nodes/pve/qemu/100")).statusText).toBe("VM 100 is running - destroy failed");
    expect((await runTask(t, "DELETE", "/nodes/pve/qemu/109")).exitstatus).toBe("OK");
    expect(t.sim.state.volumes["local-lvm"]!.some((v) => v.volid.includes("vm-109-"))).toBe(false);
  });
});

describe("tasks", () => {
  it("keeps status and log in PVE's shape (recorded)", async () => {
    const rec = fixture("pve62-16-task-status-stopped-ok-qmconfig.json");
    const upid = await t.ok<string>("POST", "/nodes/pve/qemu/131/config", { description: "hello" });
    await t.task(upid);
    const status = await t.ok<Record<string, unknown>>("GET", `/nodes/pve/tasks/${encodeURIComponent(upid)}/status`);
    expect(Object.keys(status).sort()).toEqual([...Object.keys(rec.response.body.data as object), "tokenid"].sort());
    expect(status).toMatchObject({
      status: "stopped",
      exitstatus: "OK",
      type: "qmconfig",
      id: "131",
      user: "root@pam",
      tokenid: "lab",
    });
    const log = await t.call("GET", `/nodes/pve/tasks/${encodeURIComponent(upid)}/log`);
    const lines = log.body.data as { n: number; t: string }[];
    expect(log.body.total).toBe(lines.length);
    expect(lines.at(-1)).toEqual({ n: log.body.total, t: "TASK OK" });
  });

  it("answers an unknown UPID with 400 'no such task'", async () => {
    const r = await t.call(
      "GET",
      `/nodes/pve/tasks/${encodeURIComponent("UPID:pve:00000001:00000001:00000001:qmstart:1:root@pam:")}/status`,
    );
    expect([r.status, r.body.errors]).toEqual([400, { upid: "no such task" }]);
  });

  it("lists tasks newest first, filtered by vmid and errors", async () => {
    const list = await t.ok<{ id: string; status: string }[]>("GET", "/nodes/pve/tasks", { vmid: 150, errors: 1 });
    expect(list[0]).toMatchObject({ id: "150", status: "bridge 'vmbr9' does not exist" });
  });
});

describe("HTTP faults", () => {
  it("fails the next N calls of a path, then recovers", async () => {
    t.sim.faults.addHttp({
      path: "^/nodes/pve/qemu/131/config$",
      count: 2,
      message: "can't lock file '/var/lock/qemu-server/lock-131.conf' - got timeout",
    });
    const r1 = await t.call("GET", "/nodes/pve/qemu/131/config");
    expect([r1.status, r1.statusText]).toEqual([
      500,
      "can't lock file '/var/lock/qemu-server/lock-131.conf' - got timeout",
    ]);
    expect((await t.call("GET", "/nodes/pve/qemu/131/config")).status).toBe(500);
    expect((await t.call("GET", "/nodes/pve/qemu/131/config")).status).toBe(200);
  });

  it("can be armed over HTTP at /_sim/faults", async () => {
    const r = await t.call(
      "POST",
      "/_sim/faults",
      { http: [{ path: "^/version$", status: 503, message: "busy" }] },
      { json: true },
    );
    expect(r.status).toBe(200);
    expect((await t.call("GET", "/version")).status).toBe(503);
  });
});
