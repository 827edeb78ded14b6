// PVE's permission model in the simulator: built-in roles with PVE's privilege
// lists, custom roles, /access/permissions' propagate flags, who may read whose
// permissions, and SDN.Use on the bridge/VLAN of every NIC (PVE >= 8.0).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { missingPrivileges, neededPrivileges } from "../../../src/proxmox/resources/preflight.ts";
import { type TestSim, createVm, runTask, startTestSim } from "./helpers.ts";
import { applyReadmeRole, readmeRole } from "./least-privilege.ts";

let t: TestSim;
beforeAll(async () => {
  t = await startTestSim();
});
afterAll(() => t.close());

const as = (tokenId: string, secret: string) => ({ headers: { Authorization: `PVEAPIToken=${tokenId}=${secret}` } });
type Perms = Record<string, Record<string, number>>;

/** A user lab-N@pve with a privsep=0 token and `acl` entries [path, role, propagate]. */
async function tokenWith(name: string, acl: [string, string, boolean?][], roles: Record<string, string[]> = {}) {
  for (const [roleid, privs] of Object.entries(roles))
    await t.ok("POST", "/access/roles", { roleid, privs: privs.join(",") });
  await t.ok("POST", "/access/users", { userid: `${name}@pve` });
  for (const [path, role, propagate] of acl)
    await t.ok("PUT", "/access/acl", {
      path,
      users: `${name}@pve`,
      roles: role,
      propagate: propagate === false ? 0 : 1,
    });
  const tok = await t.ok<{ "full-tokenid": string; value: string }>("POST", `/access/users/${name}@pve/token/tk`, {
    privsep: 0,
  });
  return as(tok["full-tokenid"], tok.value);
}

describe("built-in roles", () => {
  it("have PVE's privilege lists (PVEVMAdmin: no Sys.Audit, Datastore.* or SDN.Use)", async () => {
    const roles = await t.ok<{ roleid: string; privs: string; special: number }[]>("GET", "/access/roles");
    const of = (id: string) => roles.find((r) => r.roleid === id)!.privs.split(",");
    expect(of("PVEVMAdmin")).not.toEqual(expect.arrayContaining(["Sys.Audit"]));
    expect(of("PVEVMAdmin").filter((p) => !p.startsWith("VM."))).toEqual([]);
    expect(of("PVEVMAdmin")).toEqual(
      expect.arrayContaining(["VM.Allocate", "VM.Clone", "VM.Config.Network", "VM.PowerMgmt", "VM.Audit"]),
    );
    expect(of("PVESDNUser")).toEqual(["SDN.Audit", "SDN.Use"]);
    expect(of("PVEDatastoreUser")).toEqual(["Datastore.AllocateSpace", "Datastore.Audit"]);
    expect(of("PVETemplateUser")).toEqual(["VM.Audit", "VM.Clone"]);
    expect(of("PVESysAdmin")).toEqual(["Sys.Audit", "Sys.Console", "Sys.Syslog"]);
    expect(of("PVEAuditor")).toEqual([
      "Datastore.Audit",
      "Mapping.Audit",
      "Pool.Audit",
      "SDN.Audit",
      "Sys.Audit",
      "VM.Audit",
    ]);
    expect(of("PVEAdmin")).not.toEqual(expect.arrayContaining(["Sys.Modify"]));
    expect(of("PVEAdmin")).not.toEqual(expect.arrayContaining(["Mapping.Modify"]));
    expect(roles.every((r) => r.special === 1)).toBe(true);
  });
});

describe("custom roles (/access/roles)", () => {
  it("creates, reads, appends to, replaces and deletes a role; built-in ones cannot be changed", async () => {
    await t.ok("POST", "/access/roles", { roleid: "Custom1", privs: "VM.Audit,SDN.Use" });
    expect(await t.ok("GET", "/access/roles/Custom1")).toEqual({ "SDN.Use": 1, "VM.Audit": 1 });
    const listed = (await t.ok<{ roleid: string; privs: string; special: number }[]>("GET", "/access/roles")).find(
      (r) => r.roleid === "Custom1",
    );
    expect(listed).toEqual({ roleid: "Custom1", privs: "SDN.Use,VM.Audit", special: 0 });
    await t.ok("PUT", "/access/roles/Custom1", { privs: "Sys.Audit", append: 1 });
    expect(Object.keys(await t.ok<object>("GET", "/access/roles/Custom1")).sort()).toEqual([
      "SDN.Use",
      "Sys.Audit",
      "VM.Audit",
    ]);
    await t.ok("PUT", "/access/roles/Custom1", { privs: "VM.Audit" });
    expect(await t.ok("GET", "/access/roles/Custom1")).toEqual({ "VM.Audit": 1 });
    const dup = await t.call("POST", "/access/roles", { roleid: "Custom1" });
    expect([dup.status, dup.body.message]).toEqual([500, "create role failed: role 'Custom1' already exists\n"]);
    const bad = await t.call("POST", "/access/roles", { roleid: "Custom2", privs: "VM.Monitor" });
    expect([bad.status, bad.body.errors]).toEqual([
      400,
      { privs: "invalid format - invalid privilege 'VM.Monitor'\n" },
    ]);
    const special = await t.call("PUT", "/access/roles/PVEVMAdmin", { privs: "SDN.Use", append: 1 });
    expect(special.body.message).toBe("update role failed: auto-generated role 'PVEVMAdmin' cannot be modified\n");
    await t.ok("PUT", "/access/acl", { path: "/vms", users: "root@pam", roles: "Custom1" });
    await t.ok("DELETE", "/access/roles/Custom1");
    expect((await t.call("GET", "/access/roles/Custom1")).status).toBe(500);
    expect((await t.ok<{ roleid: string }[]>("GET", "/access/acl")).some((e) => e.roleid === "Custom1")).toBe(false);
    const badPath = await t.call("PUT", "/access/acl", { path: "/vms/abc", users: "root@pam", roles: "PVEAuditor" });
    expect([badPath.status, badPath.body.errors]).toEqual([400, { path: "invalid ACL path '/vms/abc'" }]);
  });
});

describe("/access/permissions", () => {
  it("answers the propagate flag of the granting ACL (0 for a non-propagating one)", async () => {
    const h = await tokenWith("perm1", [
      ["/vms", "PVEAuditor", false],
      ["/storage", "PVEDatastoreUser", true],
    ]);
    const vms = await t.ok<Perms>("GET", "/access/permissions", { path: "/vms" }, h);
    expect(vms["/vms"]).toEqual({
      "Datastore.Audit": 0,
      "Mapping.Audit": 0,
      "Pool.Audit": 0,
      "SDN.Audit": 0,
      "Sys.Audit": 0,
      "VM.Audit": 0,
    });
    expect(await t.ok<Perms>("GET", "/access/permissions", { path: "/vms/100" }, h)).toEqual({ "/vms/100": {} });
    expect((await t.ok<Perms>("GET", "/access/permissions", { path: "/storage/local" }, h))["/storage/local"]).toEqual({
      "Datastore.AllocateSpace": 1,
      "Datastore.Audit": 1,
    });
  });

  it("lets a token read only its own permissions; a sibling's need Sys.Audit on /access", async () => {
    await t.ok("POST", "/access/users", { userid: "perm2@pve" });
    await t.ok("PUT", "/access/acl", { path: "/", users: "perm2@pve", roles: "PVEVMAdmin" });
    const a = await t.ok<{ "full-tokenid": string; value: string }>("POST", "/access/users/perm2@pve/token/ta", {
      privsep: 0,
    });
    await t.ok("POST", "/access/users/perm2@pve/token/tb", { privsep: 0 });
    const ha = as(a["full-tokenid"], a.value);
    expect((await t.call("GET", "/access/permissions", { userid: "perm2@pve!ta", path: "/" }, ha)).status).toBe(200);
    const sibling = await t.call("GET", "/access/permissions", { userid: "perm2@pve!tb", path: "/" }, ha);
    expect([sibling.status, sibling.body.message]).toEqual([403, "Permission check failed (/access, Sys.Audit)\n"]);
    const user = await t.call("GET", "/access/permissions", { userid: "perm2@pve", path: "/" }, ha);
    expect(user.status).toBe(403);
    await t.ok("PUT", "/access/acl", { path: "/access", users: "perm2@pve", roles: "PVEAuditor" });
    expect((await t.call("GET", "/access/permissions", { userid: "perm2@pve!tb", path: "/" }, ha)).status).toBe(200);
  });
});

describe("SDN.Use on the bridge and VLAN of every NIC", () => {
  const vmPrivs = [
    "VM.Allocate",
    "VM.Clone",
    "VM.Config.Disk",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.Options",
    "VM.Audit",
    "Datastore.AllocateSpace",
  ];

  it("create: 403 on /sdn/zones/localnetwork/<bridge>/<tag> without SDN.Use, then allowed by an ACL on the bridge", async () => {
    const h = await tokenWith("br1", [["/", "NoSdn"]], { NoSdn: vmPrivs });
    const params = { vmid: 600, memory: 512, scsi0: "local-lvm:1", net0: "virtio,bridge=vmbr0,tag=10" };
    const denied = await t.call("POST", "/nodes/pve/qemu", params, h);
    expect([denied.status, denied.body.message]).toEqual([
      403,
      "Permission check failed (/sdn/zones/localnetwork/vmbr0/10, SDN.Use)\n",
    ]);
    expect(t.sim.state.vms[600]).toBeUndefined();
    const untagged = await t.call("POST", "/nodes/pve/qemu", { ...params, net0: "virtio,bridge=vmbr0" }, h);
    expect(untagged.body.message).toBe("Permission check failed (/sdn/zones/localnetwork/vmbr0, SDN.Use)\n");
    await t.ok("PUT", "/access/acl", { path: "/sdn/zones/localnetwork/vmbr0", users: "br1@pve", roles: "PVESDNUser" });
    expect((await t.task(await t.ok<string>("POST", "/nodes/pve/qemu", params, h))).exitstatus).toBe("OK");
  });

  it("config update: a NIC moved to a VLAN the token may not use is refused before the task starts", async () => {
    const h = await tokenWith(
      "br2",
      [
        ["/", "NoSdn2"],
        ["/sdn/zones/localnetwork/vmbr0/10", "PVESDNUser"],
      ],
      { NoSdn2: vmPrivs },
    );
    await createVm(t, 601, { net0: "virtio,bridge=vmbr0,tag=10" });
    const denied = await t.call("POST", "/nodes/pve/qemu/601/config", { net0: "virtio,bridge=vmbr0,tag=20" }, h);
    expect([denied.status, denied.body.message]).toEqual([
      403,
      "Permission check failed (/sdn/zones/localnetwork/vmbr0/20, SDN.Use)\n",
    ]);
    expect(
      (await t.task(await t.ok<string>("POST", "/nodes/pve/qemu/601/config", { memory: 1024 }, h))).exitstatus,
    ).toBe("OK");
    // A key whose privilege the role lacks: VM.Config.CPU.
    const cpu = await t.call("POST", "/nodes/pve/qemu/601/config", { cores: 2 }, h);
    expect([cpu.status, cpu.body.message]).toEqual([403, "Permission check failed (/vms/601, VM.Config.CPU)\n"]);
  });

  it("clone: the template's NICs are checked for the cloning token", async () => {
    await createVm(t, 602, { net0: "virtio,bridge=vmbr0,tag=30" });
    await runTask(t, "POST", "/nodes/pve/qemu/602/template");
    const h = await tokenWith("br3", [["/", "NoSdn3"]], { NoSdn3: vmPrivs });
    const denied = await t.call("POST", "/nodes/pve/qemu/602/clone", { newid: 603 }, h);
    expect([denied.status, denied.body.message]).toEqual([
      403,
      "Permission check failed (/sdn/zones/localnetwork/vmbr0/30, SDN.Use)\n",
    ]);
    expect(t.sim.state.vms[603]).toBeUndefined();
  });
});

describe("the README's least-privilege role", () => {
  it("created on the simulator exactly as documented, grants everything lab's preflight asks for", async () => {
    const r = readmeRole();
    expect(r.privs).toContain("SDN.Use");
    const tok = await applyReadmeRole((m, p, params) => t.ok(m, p, params));
    const needed = neededPrivileges(
      "pve",
      ["local-lvm", "local"],
      [{ bridge: "vmbr0", tags: [10, 20, 30, 40], untagged: true }],
      { nodes: ["pve", "pve2"], migrate: true }, // the demo's cluster, with a VM pinned to pve2
    );
    expect(Object.keys(needed)).toContain("/sdn/zones/localnetwork/vmbr0/10");
    expect(needed["/vms"]).toContain("VM.Migrate");
    const perms: Perms = {};
    for (const path of Object.keys(needed))
      Object.assign(perms, await t.ok<Perms>("GET", "/access/permissions", { path }, as(tok.tokenId, tok.secret)));
    expect(missingPrivileges(perms, needed)).toEqual([]);
    // One privilege less (SDN.Use): the preflight names it, per VLAN path.
    await t.ok("PUT", `/access/roles/${r.role}`, { privs: r.privs.filter((p) => p !== "SDN.Use").join(",") });
    const less: Perms = {};
    for (const path of Object.keys(needed))
      Object.assign(less, await t.ok<Perms>("GET", "/access/permissions", { path }, as(tok.tokenId, tok.secret)));
    expect(missingPrivileges(less, needed)).toEqual(
      expect.arrayContaining(["/sdn/zones/localnetwork/vmbr0: SDN.Use", "/sdn/zones/localnetwork/vmbr0/40: SDN.Use"]),
    );
  });
});
