// PBS's permission model in the simulator: the built-in roles of acl.rs, tokens
// limited to their user, the deepest ACL path winning, propagate, the router's
// 403 and the handlers' own 400s, lists filtered to what the caller may see, and
// the README's least-privilege PBS tokens created exactly as documented.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PBS_ROLES } from "../../../src/sim/pbs-acl.ts";
import { type Reply, type TestSim, startTestSim } from "./helpers.ts";
import { applyReadmePbs, readmePbsCommands } from "./least-privilege.ts";

let t: TestSim;
let secrets: Record<string, string>;

const as = (tokenId: string, secret: string) => ({
  base: t.sim.pbsUrl!,
  headers: { Authorization: `PBSAPIToken=${tokenId}:${secret}` },
});
const root = () => as(t.sim.tokenId, t.sim.tokenSecret);
const pbs = (tokenId: string, method: string, path: string, params: Record<string, unknown> = {}): Promise<Reply> =>
  t.call(method, path, params, tokenId === "root" ? root() : as(tokenId, secrets[tokenId]!));
async function rootOk<T = unknown>(method: string, path: string, params: Record<string, unknown> = {}): Promise<T> {
  const r = await t.call(method, path, params, root());
  if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${r.raw}`);
  return r.body.data as T;
}

/** Run `fn` with `authId`'s role on `path` swapped from `from` to `to` (root's token), then swap back. */
async function withRole(
  authId: string,
  path: string,
  from: string,
  to: string,
  fn: () => Promise<void>,
): Promise<void> {
  await rootOk("PUT", "/access/acl", { path, role: from, "auth-id": authId, delete: 1 });
  if (to) await rootOk("PUT", "/access/acl", { path, role: to, "auth-id": authId });
  try {
    await fn();
  } finally {
    if (to) await rootOk("PUT", "/access/acl", { path, role: to, "auth-id": authId, delete: 1 });
    await rootOk("PUT", "/access/acl", { path, role: from, "auth-id": authId });
  }
}

/** Follow a PBS worker task to its end. */
async function pbsTask(upid: string): Promise<string> {
  for (;;) {
    const s = await rootOk<{ status: string; exitstatus?: string }>(
      "GET",
      `/nodes/localhost/tasks/${encodeURIComponent(upid)}/status`,
    );
    if (s.status === "stopped") return s.exitstatus!;
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  t = await startTestSim();
  for (const name of ["lab", "offsite"])
    await pbsTask(await rootOk<string>("POST", "/config/datastore", { name, path: `/mnt/datastore/${name}` }));
  secrets = await applyReadmePbs((m, path, params) => rootOk(m, path, params));
});
afterAll(async () => {
  await t.close();
});

describe("PBS roles and ACLs", () => {
  it("has acl.rs's built-in roles, listed by GET /access/roles", async () => {
    const roles = await rootOk<{ roleid: string; privs: string[] }[]>("GET", "/access/roles");
    const of = (id: string) => roles.find((r) => r.roleid === id)?.privs.sort();
    expect(of("DatastoreBackup")).toEqual(["Datastore.Backup"]);
    expect(of("DatastorePowerUser")).toEqual(["Datastore.Backup", "Datastore.Prune"]);
    expect(of("DatastoreAdmin")).not.toContain("Datastore.Allocate");
    expect(of("RemoteSyncOperator")).toEqual(["Remote.Audit", "Remote.Read"]);
    expect(of("Audit")).toEqual(["Datastore.Audit", "Sys.Audit"]);
    expect(roles.map((r) => r.roleid).sort()).toEqual(Object.keys(PBS_ROLES).sort());
  });

  it("creates the README's user, tokens and ACLs, and GET /access/acl shows them", async () => {
    expect(Object.keys(secrets).sort()).toEqual(["lab@pbs!lab", "lab@pbs!pve"]);
    const acl = await rootOk<{ path: string; ugid: string; roleid: string; propagate: boolean }[]>(
      "GET",
      "/access/acl",
    );
    const wanted = readmePbsCommands().filter((c) => c.kind === "acl");
    expect(acl.filter((e) => e.ugid.startsWith("lab@pbs"))).toHaveLength(wanted.length);
    expect(acl).toContainEqual({
      path: "/datastore",
      ugid: "lab@pbs!lab",
      ugid_type: "user",
      roleid: "Admin",
      propagate: false,
    });
  });

  it("a token has the intersection with its user's privileges; propagate=0 stops at its path", async () => {
    const perms = async (id: string, path: string) =>
      (await rootOk<Record<string, Record<string, boolean>>>("GET", "/access/permissions", { "auth-id": id, path }))[
        path
      ];
    expect(Object.keys((await perms("lab@pbs!pve", "/datastore/lab"))!).sort()).toEqual([
      "Datastore.Backup",
      "Datastore.Prune",
    ]);
    expect(await perms("lab@pbs!lab", "/datastore")).toMatchObject({ "Datastore.Allocate": false });
    expect(await perms("lab@pbs!lab", "/datastore/other")).toEqual({});
    expect(await perms("lab@pbs!pve", "/datastore/offsite")).toEqual({});
    // A token granted more than its user has gets only what the user has.
    await rootOk("PUT", "/access/acl", { path: "/system", role: "Admin", "auth-id": "lab@pbs!pve" });
    expect(await perms("lab@pbs!pve", "/system")).toEqual({});
    await rootOk("PUT", "/access/acl", { path: "/system", role: "Admin", "auth-id": "lab@pbs!pve", delete: 1 });
  });

  it("a token may read its own permissions, not another's", async () => {
    expect((await pbs("lab@pbs!pve", "GET", "/access/permissions", { path: "/datastore/lab" })).status).toBe(200);
    const other = await pbs("lab@pbs!pve", "GET", "/access/permissions", { "auth-id": "lab@pbs!lab" });
    expect([other.status, other.raw]).toEqual([403, "permission check failed"]);
  });
});

describe("the checks of the calls lab makes", () => {
  const job = { id: "lab-t", store: "lab", schedule: "daily", "keep-daily": 7 };

  it("prune job: Datastore.Modify, else PBS's 400 naming privilege and path", async () => {
    const refused = await pbs("lab@pbs!pve", "POST", "/config/prune", job);
    expect([refused.status, refused.raw]).toEqual([400, "missing permissions 'Datastore.Modify' on '/datastore/lab'"]);
    expect((await pbs("lab@pbs!lab", "POST", "/config/prune", job)).status).toBe(200);
    expect((await pbs("lab@pbs!lab", "GET", "/config/prune/lab-t")).status).toBe(200);
    const read = await pbs("lab@pbs!pve", "GET", "/config/prune/lab-t");
    expect([read.status, read.raw]).toEqual([400, "missing permissions 'Datastore.Audit' on '/datastore/lab'"]);
    // Lists show only what the caller may see.
    expect(await pbs("lab@pbs!pve", "GET", "/config/prune").then((r) => r.body.data)).toEqual([]);
    expect(await pbs("lab@pbs!lab", "GET", "/admin/prune").then((r) => (r.body.data as unknown[]).length)).toBe(1);
  });

  it("verify job: Datastore.Verify", async () => {
    const v = { id: "lab-t", store: "lab", schedule: "weekly" };
    const refused = await pbs("lab@pbs!pve", "POST", "/config/verify", v);
    expect([refused.status, refused.raw]).toEqual([400, "missing permissions 'Datastore.Verify' on '/datastore/lab'"]);
    expect((await pbs("lab@pbs!lab", "POST", "/config/verify", v)).status).toBe(200);
  });

  it("datastore: the router's check, 403 'permission check failed'", async () => {
    const create = await pbs("lab@pbs!pve", "POST", "/config/datastore", {
      name: "other",
      path: "/mnt/datastore/other",
    });
    expect([create.status, create.raw]).toEqual([403, "permission check failed"]);
    const gc = await pbs("lab@pbs!pve", "PUT", "/config/datastore/lab", { "gc-schedule": "daily" });
    expect(gc.status).toBe(403);
    expect((await pbs("lab@pbs!lab", "PUT", "/config/datastore/lab", { "gc-schedule": "daily" })).status).toBe(200);
    const listed = (await pbs("lab@pbs!pve", "GET", "/admin/datastore")).body.data as { store: string }[];
    expect(listed.map((d) => d.store)).toEqual(["lab"]);
  });

  it("local sync job: Datastore.Read on the source, Backup and (owner root@pam) Modify on the target", async () => {
    const sync = { id: "lab-t-offsite", store: "offsite", "remote-store": "lab", schedule: "daily" };
    expect((await pbs("lab@pbs!lab", "POST", "/config/sync", sync)).status).toBe(200);
    const run = await pbs("lab@pbs!lab", "POST", "/admin/sync/lab-t-offsite/run");
    expect(run.status).toBe(200);
    expect(await pbsTask(String(run.body.data))).toBe("OK");
    // Without Datastore.Read on the source (DatastoreBackup instead of DatastoreAdmin there): PBS's terse 400.
    await withRole("lab@pbs!lab", "/datastore/lab", "DatastoreAdmin", "DatastoreBackup", async () => {
      const refused = await pbs("lab@pbs!lab", "POST", "/admin/sync/lab-t-offsite/run");
      expect([refused.status, refused.raw]).toEqual([400, "permission check failed"]);
    });
  });

  it("tasks: one's own, else Sys.Audit on /system/tasks", async () => {
    const upid = await rootOk<string>("POST", "/admin/datastore/lab/gc");
    const other = await pbs("lab@pbs!lab", "GET", `/nodes/localhost/tasks/${encodeURIComponent(upid)}/status`);
    expect(other.status).toBe(403);
  });

  it("root@pam's token has only what acl.cfg gives it (no superuser token)", async () => {
    await rootOk("PUT", "/access/acl", { path: "/", role: "Admin", "auth-id": "root@pam!lab", delete: 1 });
    try {
      expect((await t.call("GET", "/config/prune", {}, root())).body.data).toEqual([]);
      expect((await t.call("GET", "/config/datastore/lab", {}, root())).status).toBe(403);
    } finally {
      t.sim.state.pbs.access!.acl.push({ path: "/", ugid: "root@pam!lab", roleid: "Admin", propagate: true });
    }
  });
});

describe("Proxmox's pbs storage logs in as its token", () => {
  const storage = (username: string, password: string) => ({
    type: "pbs",
    server: "127.0.0.1",
    datastore: "lab",
    username,
    password,
    fingerprint: t.sim.fingerprint,
  });

  it("sees the datastore only with a privilege on it", async () => {
    const r = await t.call("POST", "/storage", { storage: "pbs-x", ...storage("lab@pbs!pve", "wrong") });
    expect(r.status).toBe(500);
    expect(r.body.message).toMatch(/401 Unauthorized/);
    await t.ok("POST", "/storage", { storage: "pbs-lab", ...storage("lab@pbs!pve", secrets["lab@pbs!pve"]!) });
    const off = await t.call("POST", "/storage", {
      storage: "pbs-off",
      ...storage("lab@pbs!pve", secrets["lab@pbs!pve"]!),
      datastore: "offsite",
    });
    expect(off.body.message).toMatch(/Cannot find datastore 'offsite', check permissions and existence!/);
  });

  it("vzdump needs Datastore.Backup: the task fails with PBS's message", async () => {
    await t.task(await t.ok<string>("POST", "/nodes/pve/qemu", { vmid: 150, name: "acl-vm", memory: 512 }));
    const ok = await t.ok<string>("POST", "/nodes/pve/vzdump", {
      vmid: 150,
      storage: "pbs-lab",
      "prune-backups": "keep-last=2",
    });
    expect((await t.task(ok)).exitstatus).toBe("OK");
    await withRole("lab@pbs!pve", "/datastore/lab", "DatastorePowerUser", "", async () => {
      const upid = await t.ok<string>("POST", "/nodes/pve/vzdump", { vmid: 150, storage: "pbs-lab" });
      const task = await t.task(upid);
      expect(task.exitstatus).toBe("job errors");
      expect(task.log.join("\n")).toMatch(/missing permissions 'Datastore.Backup' on '\/datastore\/lab'/);
      // Nor does the storage list the backups any more.
      const listed = await t.ok<unknown[]>("GET", "/nodes/pve/storage/pbs-lab/content", { content: "backup" });
      expect(listed).toEqual([]);
    });
  });

  it("prune-backups after vzdump needs Datastore.Prune (DatastoreBackup is not enough)", async () => {
    await withRole("lab@pbs!pve", "/datastore/lab", "DatastorePowerUser", "DatastoreBackup", async () => {
      await new Promise((r) => setTimeout(r, 1100)); // a new backup-time
      const upid = await t.ok<string>("POST", "/nodes/pve/vzdump", {
        vmid: 150,
        storage: "pbs-lab",
        "prune-backups": "keep-last=2",
      });
      const task = await t.task(upid);
      expect(task.exitstatus).toBe("job errors");
      expect(task.log.join("\n")).toMatch(/permission check failed/);
    });
  });
});
