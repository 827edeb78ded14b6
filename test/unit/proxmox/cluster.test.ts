// lab on a cluster (ADR 0017): placement (a VM's node, or round-robin at creation), a clone
// with `target` from a template on shared storage, and a changed node planned and applied as a
// migration (online when running); every second converge changes nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkLabRefs } from "../../../src/inventory/lab-refs.ts";
import type { LabModel } from "../../../src/inventory/model.ts";
import { checkCalls } from "../../../src/proxmox/conformance.ts";
import { placeVms } from "../../../src/proxmox/placement.ts";
import type { PveApi } from "../../../src/proxmox/resources/api.ts";
import { VmidAllocator } from "../../../src/proxmox/resources/find.ts";
import { vmTemplate, type TemplateWant } from "../../../src/proxmox/resources/template.ts";
import { vm, vmDiff, type VmHave, type VmWant } from "../../../src/proxmox/resources/vm.ts";
import { hostCtx } from "../helpers/host-ctx.ts";
import type { TestSim } from "../sim/helpers.ts";
import { converge, startSimApi, type SimApi } from "./sim-api.ts";

const tpl: TemplateWant = {
  name: "deb",
  node: "pve",
  vmid: 9100,
  imageUrl: "http://127.0.0.1/deb.qcow2",
  checksum: `sha256:${"0".repeat(64)}`,
  storage: "shared",
  imageStorage: "local",
  bridge: "vmbr0",
  cores: 1,
  memory: 512,
  osType: "l26",
};
const want = (over: Partial<VmWant> = {}): VmWant => ({
  name: "web1",
  node: "pve2",
  nodePinned: true,
  template: tpl,
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
  ...over,
});

describe("placement", () => {
  const lab = (vms: Record<string, { node?: string }>, nodes = ["pve", "pve2", "pve3"]) =>
    ({
      proxmox: { pve1: { url: "https://x", node: "pve", nodes, token_id: "a@pam!b", token_secret: "s" } },
      templates: { deb: { endpoint: "pve1", image_url: "http://x", checksum: "sha256:00", vmid: 9000 } },
      vms: Object.fromEntries(Object.entries(vms).map(([n, v]) => [n, { template: "deb", vlan: "T", ...v }])),
      vlans: { T: { tag: 10, subnet: "10.0.0.0/24" } },
      pbs: {},
    }) as unknown as LabModel;

  it("keeps a named node (pinned) and places the others round-robin in inventory order", () => {
    const p = placeVms(lab({ a: {}, b: { node: "pve3" }, c: {}, d: {}, e: {} }), "pve1");
    expect(Object.fromEntries([...p].map(([n, x]) => [n, `${x.node}${x.pinned ? "!" : ""}`]))).toEqual({
      a: "pve",
      b: "pve3!",
      c: "pve2",
      d: "pve3",
      e: "pve",
    });
  });

  it("a one-node endpoint places everything on its node", () => {
    const one = lab({ a: {}, b: {} }, ["pve"]);
    expect([...placeVms(one, "pve1").values()].map((x) => x.node)).toEqual(["pve", "pve"]);
  });

  it("rejects a VM node that is not one of the endpoint's nodes, and nodes without node", () => {
    const where = () => ({ file: "inventory/lab.yaml", line: 1, col: 1 });
    expect(() => checkLabRefs(lab({ a: { node: "pve9" } }), new Map(), where)).toThrow(
      'VM a: node "pve9" is not a node of endpoint pve1',
    );
    expect(() => checkLabRefs(lab({}, ["pve2", "pve3"]), new Map(), where)).toThrow(
      'Proxmox endpoint pve1: node "pve" is not among its nodes',
    );
    expect(() => checkLabRefs(lab({ a: { node: "pve2" } }), new Map(), where)).not.toThrow();
  });
});

describe("vmDiff on a cluster", () => {
  const have = (over: Partial<VmHave> = {}): VmHave => ({
    vmid: 300,
    node: "pve",
    config: {},
    pending: [],
    running: false,
    firewall: { enabled: true, groups: ["vlan-trusted"] },
    ...over,
  });
  const keys = (w: VmWant, h: VmHave) => vmDiff(w, h).filter((c) => c.key === "migrate" || c.key === "clone");

  it("plans a pinned VM found on another node as a migration: offline when stopped, online when running", () => {
    expect(keys(want(), have())).toEqual([
      {
        key: "migrate",
        summary: "migrate VM web1 from pve to pve2 (offline)",
        before: { node: "pve" },
        after: { node: "pve2" },
      },
    ]);
    expect(keys(want(), have({ running: true }))[0]?.summary).toBe("migrate VM web1 from pve to pve2 (online)");
  });

  it("never moves a VM placed by the rule, nor one already on its node", () => {
    expect(keys(want({ nodePinned: false }), have())).toEqual([]);
    expect(keys(want(), have({ node: "pve2" }))).toEqual([]);
  });

  it("a new VM on another node than its template's is a clone onto that node", () => {
    expect(keys(want(), { ...have(), vmid: undefined })[0]?.summary).toBe(
      "linked clone of template deb -> VM web1 on node pve2",
    );
  });
});

describe("against a three-node simulator", () => {
  let s: SimApi;
  let t: TestSim;
  let api: PveApi;
  let calls: SimApi["calls"];
  const ids = new VmidAllocator({ min: 300, max: 399 });
  const deps = { pve: () => Promise.resolve(api), ids: () => Promise.resolve(ids) };
  let shared: TemplateWant;
  let local: TemplateWant;

  beforeAll(async () => {
    s = await startSimApi({
      nodes: ["pve", "pve2", "pve3"],
      statusCycleMs: 0,
      taskDelayMs: 5,
      guestBackend: { start: () => Promise.resolve({ ip: "127.0.47.9" }), stop: () => Promise.resolve() },
    });
    ({ t, api, calls } = s);
    const base = { ...tpl, ...s.image };
    shared = base;
    local = { ...base, name: "deb-local", vmid: 9200, storage: "local-lvm" };
    await t.ok("POST", "/cluster/firewall/groups", { group: "vlan-trusted" });
  });
  afterAll(async () => {
    await s.close();
  });

  const web1 = (over: Partial<VmWant> = {}) => want({ template: shared, ...over });
  const nodeOf = (name: string) => Object.values(t.sim.state.vms).find((v) => v.config.name === name)?.node;

  it("builds a template on shared storage and clones VMs with target onto another node; twice: no changes", async () => {
    expect(await converge(vmTemplate(deps.pve, deps.ids, shared))).toEqual(["download", "create"]);
    expect(await converge(vm(deps, web1()))).toEqual(expect.arrayContaining(["clone", "firewall"]));
    expect(nodeOf("web1")).toBe("pve2");
    const full = web1({ name: "full1", node: "pve3", clone: "full" });
    expect(await converge(vm(deps, full))).toContain("clone");
    expect(nodeOf("full1")).toBe("pve3");
    const clones = calls.filter((c) => c.method === "POST" && c.path.endsWith("/clone"));
    expect(clones.map((c) => [c.path, c.values?.target, c.values?.storage])).toEqual([
      ["/nodes/pve/qemu/9100/clone", "pve2", undefined],
      ["/nodes/pve/qemu/9100/clone", "pve3", undefined],
    ]);
    expect(await converge(vmTemplate(deps.pve, deps.ids, shared))).toEqual([]);
    expect(await converge(vm(deps, web1()))).toEqual([]);
    expect(await converge(vm(deps, full))).toEqual([]);
  });

  it("a VM whose node changed is migrated (offline when stopped), and the next converge changes nothing", async () => {
    const moved = web1({ node: "pve3" });
    const r = vm(deps, moved);
    const have = await r.read(hostCtx());
    expect(r.diff(moved, have).map((c) => c.summary)).toEqual(["migrate VM web1 from pve2 to pve3 (offline)"]);
    await r.apply(hostCtx(), r.diff(moved, have), have);
    expect(nodeOf("web1")).toBe("pve3");
    const migrate = calls.filter((c) => c.path.endsWith("/migrate"));
    expect(migrate.map((c) => [c.path, c.values])).toEqual([["/nodes/pve2/qemu/300/migrate", { target: "pve3" }]]);
    expect(await converge(vm(deps, moved))).toEqual([]);
  });

  it("a running VM migrates online (with its local disks); config changes in the same run land on the new node", async () => {
    const run = want({ name: "run1", node: "pve", clone: "full", started: true });
    await converge(vmTemplate(deps.pve, deps.ids, local));
    const onLocal = { ...run, template: local };
    expect(await converge(vm(deps, onLocal))).toEqual(expect.arrayContaining(["clone", "start"]));
    const moved = { ...onLocal, node: "pve2", cores: 2 };
    expect(await converge(vm(deps, moved))).toEqual(["migrate", "config:cores"]);
    const call = calls.filter((c) => c.path.endsWith("/migrate")).at(-1)!;
    expect([call.path, call.values]).toEqual([
      `/nodes/pve/qemu/${Object.values(t.sim.state.vms).find((v) => v.config.name === "run1")!.vmid}/migrate`,
      { target: "pve2", online: "1", "with-local-disks": "1" },
    ]);
    const vmNow = Object.values(t.sim.state.vms).find((v) => v.config.name === "run1")!;
    // cores of a running VM wait for its next start (pending), on the new node.
    expect([vmNow.node, vmNow.status, vmNow.pending.cores]).toEqual(["pve2", "running", "2"]);
    expect(await converge(vm(deps, moved))).toEqual([]);
  });

  it("a VM from a template on local storage cannot be cloned onto another node: PVE's error, nothing left", async () => {
    const far = want({ name: "far1", node: "pve3", template: local });
    await expect(converge(vm(deps, far))).rejects.toThrow("can't clone VM to node 'pve3' (VM uses local storage)");
    expect(nodeOf("far1")).toBeUndefined();
  });

  it("every call lab made conforms to the PVE schema (values and replies)", () => {
    expect(calls.length).toBeGreaterThan(20);
    expect(checkCalls(calls)).toEqual([]);
  });
});
