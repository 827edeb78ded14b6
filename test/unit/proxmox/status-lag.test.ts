// /cluster/resources lags like a real node's (name, status and template come from
// pvestatd's cycle): a template built and cloned in one apply, and a quick re-run,
// must read what they just changed from the VM configs, not from that list.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkCalls } from "../../../src/proxmox/conformance.ts";
import type { PveApi } from "../../../src/proxmox/resources/api.ts";
import { VmidAllocator } from "../../../src/proxmox/resources/find.ts";
import { vmTemplate, type TemplateWant } from "../../../src/proxmox/resources/template.ts";
import { vm, type VmWant } from "../../../src/proxmox/resources/vm.ts";
import { hostCtx } from "../helpers/host-ctx.ts";
import { type TestSim, startTestSim } from "../sim/helpers.ts";
import { converge, startSimApi, type SimApi } from "./sim-api.ts";

let s: SimApi;
let t: TestSim;
let calls: SimApi["calls"];
let api: PveApi;
let tplWant: TemplateWant;

beforeAll(async () => {
  // A status cycle far longer than the test: /cluster/resources never catches up here.
  s = await startSimApi({ statusCycleMs: 3_600_000, taskDelayMs: 5 });
  ({ t, calls, api } = s);
  tplWant = {
    name: "deb",
    node: "pve",
    vmid: 9100,
    ...s.image,
    storage: "local-lvm",
    imageStorage: "local",
    bridge: "vmbr0",
    cores: 1,
    memory: 512,
    osType: "l26",
  };
});
afterAll(async () => {
  await s.close();
});

describe("with /cluster/resources behind", () => {
  const ids = new VmidAllocator({ min: 300, max: 399 });
  const deps = { pve: () => Promise.resolve(api), ids: () => Promise.resolve(ids) };
  const vmWant = (): VmWant => ({
    name: "web1",
    node: "pve",
    template: tplWant,
    clone: "linked",
    storage: "local-lvm",
    cores: 1,
    memory: 512,
    nics: [{ bridge: "vmbr0", tag: 10, vlan: "Trusted" }],
    ip: "dhcp",
    user: "lab",
    sshKeys: [],
    tags: [],
    started: false,
    agentTimeoutSec: 5,
  });

  it("builds a template and clones it in one apply, and a quick re-run changes nothing", async () => {
    await t.ok("POST", "/cluster/firewall/groups", { group: "vlan-trusted" });
    const ctx = hostCtx();
    expect(await converge(vmTemplate(deps.pve, deps.ids, tplWant), ctx)).toEqual(["download", "create"]);
    // The simulator's list still shows the new template as a VM of unknown status without a name.
    const listed = (
      await t.ok<{ vmid: number; status: string; name?: string; template?: number }[]>("GET", "/cluster/resources", {
        type: "vm",
      })
    ).find((v) => v.vmid === 9100);
    expect(listed).toMatchObject({ status: "unknown" });
    expect(listed?.template).toBeUndefined();
    expect(await converge(vm(deps, vmWant()), ctx)).toEqual(expect.arrayContaining(["clone", "firewall"]));
    // Re-run at once: the fresh template is not "half-built", the fresh VM is not missing.
    expect(await converge(vmTemplate(deps.pve, deps.ids, tplWant), hostCtx())).toEqual([]);
    expect(await converge(vm(deps, vmWant()), hostCtx())).toEqual([]);
    expect(Object.values(t.sim.state.vms).filter((v) => v.config.name === "web1")).toHaveLength(1);
  });
});

describe("the simulator's status cycle", () => {
  it("shows a new VM as 'unknown' until the next cycle, then with its name; lock and tags at once", async () => {
    const s = await startTestSim({ statusCycleMs: 300, taskDelayMs: 5 });
    try {
      const list = async () =>
        (
          await s.ok<{ vmid: number; status: string; name?: string; tags?: string }[]>("GET", "/cluster/resources", {
            type: "vm",
          })
        ).find((v) => v.vmid === 700);
      await s.ok("GET", "/cluster/resources", { type: "vm" });
      await s.task(await s.ok<string>("POST", "/nodes/pve/qemu", { vmid: 700, name: "fresh", tags: "a" }));
      const before = await list();
      expect(before).toMatchObject({ status: "unknown", tags: "a" });
      expect(before?.name).toBeUndefined();
      // The node's own list reads the config: current.
      expect(
        (await s.ok<{ vmid: number; name: string }[]>("GET", "/nodes/pve/qemu")).find((v) => v.vmid === 700)?.name,
      ).toBe("fresh");
      await new Promise((r) => setTimeout(r, 350));
      expect(await list()).toMatchObject({ status: "stopped", name: "fresh" });
    } finally {
      await s.close();
    }
  });
});

describe("conformance", () => {
  it("every call lab made here (values and replies included) conforms to the PVE schema", () => {
    expect(calls.length).toBeGreaterThan(20);
    expect(checkCalls(calls)).toEqual([]);
  });
});

describe("the status index of a running VM", () => {
  it("is a valid /cluster/resources item (no vmstatus-only keys such as pid)", async () => {
    const s = await startTestSim({
      statusCycleMs: 0,
      taskDelayMs: 5,
      guestBackend: { start: () => Promise.resolve({ ip: "127.0.44.9" }), stop: () => Promise.resolve() },
    });
    try {
      await s.task(await s.ok<string>("POST", "/nodes/pve/qemu", { vmid: 701, name: "up", start: 1 }));
      const r = await s.call("GET", "/cluster/resources", { type: "vm" });
      expect(r.status, r.raw).toBe(200);
      expect((r.body.data as { vmid: number; status: string }[]).find((v) => v.vmid === 701)).toMatchObject({
        status: "running",
      });
    } finally {
      await s.close();
    }
  });
});
