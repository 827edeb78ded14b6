// PBS access endpoints (users, tokens, /access/acl, /access/permissions,
// /access/roles) and the privilege checks PBS's handlers make for the calls
// lab uses: the router's `access.permission` (schema; 403 "permission check
// failed") comes first, then the handler's own checks (check_privs: 400
// "missing permissions '...' on '/...'"; sync jobs: 400 "permission check
// failed"), and list endpoints drop what the caller may not see.
// Sources: proxmox-backup src/api2/access/{acl,user,mod}.rs, src/api2/config/
// {prune,verify,sync,datastore}.rs, src/api2/admin/{datastore,prune,verify,sync}.rs,
// src/api2/node/tasks.rs.
import { createHash, randomUUID } from "node:crypto";
import { scalarText } from "../proxmox/schema-formats.ts";
import type { AuthId } from "./auth.ts";
import type { SimContext } from "./context.ts";
import { SimError } from "./errors.ts";
import { PBS_PRIVILEGES, PBS_ROLES, forbidden, pbsAccess, pbsCheckPrivs, pbsHas, pbsPrivileges } from "./pbs-acl.ts";
import type { Item, PbsSnapshot, SimState } from "./state.ts";

type Params = Record<string, unknown>;
type Handler = (sim: SimContext, p: Params, auth: AuthId) => unknown;

const digestOf = (v: unknown): string => createHash("sha256").update(JSON.stringify(v)).digest("hex");
const isToken = (id: string): boolean => id.includes("!");
const userOf = (id: string): string => id.split("!")[0]!;

/** Permission.Modify on /access/acl, or (update_acl) the caller's own tokens only. */
function updateAcl(sim: SimContext, p: Params, auth: AuthId): null {
  const access = pbsAccess(sim.state);
  if (p.digest !== undefined && p.digest !== digestOf(access.acl))
    throw new SimError(400, "detected modified configuration - file changed by other user? Try again.");
  const target = p["auth-id"] === undefined ? undefined : scalarText(p["auth-id"]);
  if (!pbsHas(sim.state, auth, "/access/acl", "Permissions.Modify")) {
    if (!target || !isToken(target) || auth.tokenid || userOf(target) !== auth.userid)
      throw new SimError(400, "Unprivileged users can only set ACL items for their own API tokens.");
  }
  if (p.group !== undefined) throw new SimError(400, "parameter 'group' is not supported by the simulator");
  if (!target) throw new SimError(400, "either 'group' or 'auth-id' is required");
  const known = isToken(target) ? access.tokens[target] : access.users[target];
  if (!known && !p.delete) throw new SimError(400, isToken(target) ? "no such API token." : "no such user.");
  const path = scalarText(p.path);
  const role = String(p.role);
  const propagate = p.propagate !== false;
  access.acl = access.acl.filter((e) => !(e.path === path && e.ugid === target && e.roleid === role));
  if (!p.delete) access.acl.push({ path, ugid: target, roleid: role, propagate });
  return null;
}

/** Sys.Audit on /access/acl: every entry; else only those of the caller's tokens. */
function readAcl(sim: SimContext, p: Params, auth: AuthId): unknown[] {
  const all = pbsHas(sim.state, auth, "/access/acl", "Sys.Audit");
  const path = p.path === undefined ? undefined : scalarText(p.path);
  return pbsAccess(sim.state)
    .acl.filter((e) => all || (isToken(e.ugid) && !auth.tokenid && userOf(e.ugid) === auth.userid))
    .filter((e) => !path || (p.exact ? e.path === path : e.path === path || e.path.startsWith(`${path}/`)))
    .map((e) => ({ path: e.path, ugid: e.ugid, ugid_type: "user", propagate: e.propagate, roleid: e.roleid }));
}

const ROOTS = ["/", "/access", "/datastore", "/remote", "/system", "/tape"];

/** list_permissions: own privileges (and one's tokens') always; anyone else's with Sys.Audit on /access. */
function permissions(sim: SimContext, p: Params, auth: AuthId): Record<string, Record<string, boolean>> {
  const target = p["auth-id"] === undefined ? auth.authid : scalarText(p["auth-id"]);
  const own = target === auth.authid || (!auth.tokenid && isToken(target) && userOf(target) === auth.userid);
  if (!own && !pbsHas(sim.state, auth, "/access", "Sys.Audit")) throw forbidden();
  const paths =
    p.path !== undefined
      ? [scalarText(p.path)]
      : [
          ...new Set([
            ...ROOTS,
            ...pbsAccess(sim.state)
              .acl.filter((e) => e.ugid === target)
              .map((e) => e.path),
          ]),
        ];
  const out: Record<string, Record<string, boolean>> = {};
  for (const path of paths) {
    const privs = pbsPrivileges(sim.state, target, path);
    if (privs.size || p.path !== undefined)
      out[path] = Object.fromEntries([...privs].sort(([a], [b]) => a.localeCompare(b)));
  }
  return out;
}

function createUser(sim: SimContext, p: Params): null {
  const users = pbsAccess(sim.state).users;
  const userid = String(p.userid);
  if (users[userid]) throw new SimError(400, `user '${userid}' already exists.`);
  users[userid] = {
    enable: p.enable !== false,
    ...(p.password !== undefined ? { password: scalarText(p.password) } : {}),
    ...(p.comment !== undefined ? { comment: scalarText(p.comment) } : {}),
  };
  return null;
}

function createToken(sim: SimContext, p: Params): { tokenid: string; value: string } {
  const access = pbsAccess(sim.state);
  const userid = String(p.userid);
  if (!access.users[userid]) throw new SimError(404, `no such user '${userid}'`);
  const tokenid = `${userid}!${String(p["token-name"])}`;
  if (access.tokens[tokenid])
    throw new SimError(400, `token '${String(p["token-name"])}' for user '${userid}' already exists.`);
  const value = randomUUID();
  access.tokens[tokenid] = {
    secret: value,
    enable: p.enable !== false,
    ...(p.comment !== undefined ? { comment: scalarText(p.comment) } : {}),
    ...(p.expire ? { expire: Number(p.expire) } : {}),
  };
  return { tokenid, value };
}

export const pbsAccessRoutes: Record<string, Handler> = {
  "GET /access/acl": readAcl,
  "PUT /access/acl": updateAcl,
  "GET /access/permissions": permissions,
  "GET /access/roles": () =>
    Object.entries(PBS_ROLES).map(([roleid, privs]) => ({
      roleid,
      privs: PBS_PRIVILEGES.filter((x) => privs.includes(x)),
    })),
  "POST /access/users": createUser,
  "POST /access/users/{userid}/token/{token-name}": createToken,
  "DELETE /access/users/{userid}/token/{token-name}": (sim, p) => {
    const access = pbsAccess(sim.state);
    const tokenid = `${String(p.userid)}!${String(p["token-name"])}`;
    if (!access.tokens[tokenid])
      throw new SimError(404, `no such token '${String(p["token-name"])}' for user '${String(p.userid)}'`);
    delete access.tokens[tokenid];
    access.acl = access.acl.filter((e) => e.ugid !== tokenid); // delete_token removes its ACL entries too
    return null;
  },
};

// ---- the handlers' own checks ---------------------------------------------------------------

const dsPath = (store: unknown, ns?: unknown): string =>
  `/datastore/${String(store)}${ns ? `/${scalarText(ns).split("/").join("/")}` : ""}`;

/** check_backup_owner: the owner itself, or the user of an owning token. */
const owns = (owner: string, auth: AuthId): boolean =>
  owner === auth.authid || (!auth.tokenid && isToken(owner) && userOf(owner) === auth.userid);

/** check_ns_privs_full: full access, or partial access (then owner-limited); else 403. */
function nsPrivs(state: SimState, auth: AuthId, path: string, full: string, partial: string): "full" | "owner" {
  if (pbsHas(state, auth, path, full)) return "full";
  if (pbsHas(state, auth, path, partial)) return "owner";
  throw forbidden();
}

/** check_sync_job_read_access (pull): Datastore.Audit on the target, and on the source (local) or Remote.Audit. */
export function syncReadable(state: SimState, auth: AuthId, job: Item): boolean {
  if (!pbsHas(state, auth, dsPath(job.store, job.ns), "Datastore.Audit")) return false;
  return job.remote
    ? pbsHas(state, auth, `/remote/${String(job.remote)}`, "Remote.Audit")
    : pbsHas(state, auth, dsPath(job["remote-store"], job["remote-ns"]), "Datastore.Audit");
}

/**
 * check_sync_job_modify_access (pull): Datastore.Backup on the target, Datastore.Prune for remove-vanished,
 * Datastore.Modify unless the job's owner is the caller (no owner: root@pam), and the source readable:
 * Remote.Read on /remote/{remote}/{remote-store}, or Datastore.Read on a local source datastore.
 */
export function syncModifiable(state: SimState, auth: AuthId, job: Item): boolean {
  const target = dsPath(job.store, job.ns);
  if (!pbsHas(state, auth, target, "Datastore.Backup")) return false;
  if (
    (job["remove-vanished"] === true || job["remove-vanished"] === 1) &&
    !pbsHas(state, auth, target, "Datastore.Prune")
  )
    return false;
  const owner = job.owner === undefined ? "root@pam" : String(job.owner);
  if (!owns(owner, auth) && !pbsHas(state, auth, target, "Datastore.Modify")) return false;
  return job.remote
    ? pbsHas(state, auth, `/remote/${String(job.remote)}/${String(job["remote-store"])}`, "Remote.Read")
    : pbsHas(state, auth, dsPath(job["remote-store"], job["remote-ns"]), "Datastore.Read");
}

const JOB_PRIVS = {
  prune: { read: ["Datastore.Audit"], list: ["Datastore.Audit", "Datastore.Modify"], write: ["Datastore.Modify"] },
  verify: {
    read: ["Datastore.Audit", "Datastore.Verify"],
    list: ["Datastore.Audit", "Datastore.Verify"],
    write: ["Datastore.Verify"],
  },
} as const;

function jobChecks(kind: "prune" | "verify"): Record<string, Handler> {
  const privs = JOB_PRIVS[kind];
  const existing = (sim: SimContext, p: Params): Item | undefined => sim.state.pbs.jobs[kind][String(p.id)];
  const check = (sim: SimContext, auth: AuthId, job: Item | undefined, list: readonly string[]): void => {
    if (job) pbsCheckPrivs(sim.state, auth, dsPath(job.store, job.ns), list, true);
  };
  return {
    [`POST /config/${kind}`]: (sim, p, auth) => check(sim, auth, p as Item, privs.write),
    [`GET /config/${kind}/{id}`]: (sim, p, auth) => check(sim, auth, existing(sim, p), privs.read),
    [`PUT /config/${kind}/{id}`]: (sim, p, auth) => {
      check(sim, auth, existing(sim, p), privs.write);
      if (p.store !== undefined || p.ns !== undefined)
        check(sim, auth, { ...existing(sim, p), ...(p as Item) }, privs.write);
    },
    [`DELETE /config/${kind}/{id}`]: (sim, p, auth) => check(sim, auth, existing(sim, p), privs.write),
    [`POST /admin/${kind}/{id}/run`]: (sim, p, auth) => check(sim, auth, existing(sim, p), privs.write),
  };
}

function syncCheck(sim: SimContext, auth: AuthId, job: Item | undefined, test: typeof syncReadable): void {
  if (job && !test(sim.state, auth, job)) throw new SimError(400, "permission check failed");
}

const syncJob = (sim: SimContext, p: Params): Item | undefined => sim.state.pbs.jobs.sync[String(p.id)];

/** The checks a handler makes before it acts; missing objects are left to the handler's own error. */
const handlerChecks: Record<string, Handler> = {
  ...jobChecks("prune"),
  ...jobChecks("verify"),
  "POST /config/sync": (sim, p, auth) => syncCheck(sim, auth, p as Item, syncModifiable),
  "GET /config/sync/{id}": (sim, p, auth) => syncCheck(sim, auth, syncJob(sim, p), syncReadable),
  "PUT /config/sync/{id}": (sim, p, auth) => {
    const job = syncJob(sim, p);
    if (!job) return;
    const next: Item = { ...job };
    for (const k of (p.delete as string[] | undefined) ?? []) delete next[k];
    syncCheck(sim, auth, { ...next, ...(p as Item) }, syncModifiable);
  },
  "DELETE /config/sync/{id}": (sim, p, auth) => syncCheck(sim, auth, syncJob(sim, p), syncModifiable),
  "POST /admin/sync/{id}/run": (sim, p, auth) => syncCheck(sim, auth, syncJob(sim, p), syncModifiable),
  "GET /admin/datastore/{store}/status": (sim, p, auth) => {
    const path = dsPath(p.store);
    if (!pbsHas(sim.state, auth, path, "Datastore.Audit", "Datastore.Backup", "Datastore.Read")) throw forbidden();
  },
  "GET /admin/datastore/{store}/snapshots": (sim, p, auth) =>
    void nsPrivs(sim.state, auth, dsPath(p.store, p.ns), "Datastore.Audit", "Datastore.Backup"),
  "GET /admin/datastore/{store}/groups": (sim, p, auth) =>
    void nsPrivs(sim.state, auth, dsPath(p.store, p.ns), "Datastore.Audit", "Datastore.Backup"),
  "DELETE /admin/datastore/{store}/snapshots": (sim, p, auth) =>
    ownerOnly(sim, p, auth, "Datastore.Modify", "Datastore.Prune"),
  "POST /admin/datastore/{store}/prune": (sim, p, auth) =>
    ownerOnly(sim, p, auth, "Datastore.Modify", "Datastore.Prune"),
  "POST /admin/datastore/{store}/verify": (sim, p, auth) => {
    if (p["backup-id"] === undefined) pbsCheckPrivs(sim.state, auth, dsPath(p.store, p.ns), ["Datastore.Verify"], true);
    else ownerOnly(sim, p, auth, "Datastore.Verify", "Datastore.Backup");
  },
  "GET /nodes/{node}/tasks/{upid}/status": (sim, p, auth) => taskAccess(sim, p, auth),
  "GET /nodes/{node}/tasks/{upid}/log": (sim, p, auth) => taskAccess(sim, p, auth),
};

/** Full privilege for any group, or the partial one for a group the caller owns ("backup owner check failed"). */
function ownerOnly(sim: SimContext, p: Params, auth: AuthId, full: string, partial: string): void {
  if (nsPrivs(sim.state, auth, dsPath(p.store, p.ns), full, partial) === "full") return;
  const group = (sim.state.pbs.snapshots[String(p.store)] ?? []).find(
    (s) => s["backup-type"] === p["backup-type"] && s["backup-id"] === p["backup-id"],
  );
  if (group && !owns(group.owner, auth))
    throw new SimError(400, `backup owner check failed (${auth.authid} != ${group.owner})`);
}

/** check_task_access: one's own tasks (a user also its tokens'), else Sys.Audit on /system/tasks. */
function taskAccess(sim: SimContext, p: Params, auth: AuthId): void {
  const owner = String(p.upid).split(":")[8] ?? "";
  if (owns(owner, auth) || pbsHas(sim.state, auth, "/system/tasks", "Sys.Audit")) return;
  throw forbidden();
}

export function pbsHandlerCheck(sim: SimContext, key: string, p: Params, auth: AuthId): void {
  handlerChecks[key]?.(sim, p, auth);
}

// ---- what list endpoints show ---------------------------------------------------------------

type Filter = (state: SimState, auth: AuthId, item: Record<string, unknown>, p: Params) => boolean;
const anyOn = (...privs: string[]) =>
  ((state, auth, job) => pbsHas(state, auth, dsPath(job.store, job.ns), ...privs)) satisfies Filter;
const ownedUnlessAudit: Filter = (state, auth, item, p) =>
  pbsHas(state, auth, dsPath(p.store, p.ns), "Datastore.Audit") ||
  owns(String((item as Partial<PbsSnapshot>).owner), auth);

const listFilters: Record<string, Filter> = {
  "GET /admin/datastore": (state, auth, d) => pbsPrivileges(state, auth.authid, dsPath(d.store)).size > 0,
  "GET /config/datastore": (state, auth, d) => pbsHas(state, auth, dsPath(d.name), "Datastore.Audit"),
  "GET /config/prune": anyOn(...JOB_PRIVS.prune.list),
  "GET /admin/prune": anyOn(...JOB_PRIVS.prune.list),
  "GET /config/verify": anyOn(...JOB_PRIVS.verify.list),
  "GET /admin/verify": anyOn(...JOB_PRIVS.verify.list),
  "GET /config/sync": (state, auth, job) => syncReadable(state, auth, job as Item),
  "GET /admin/sync": (state, auth, job) => syncReadable(state, auth, job as Item),
  "GET /admin/gc": anyOn("Datastore.Audit"),
  "GET /admin/datastore/{store}/snapshots": ownedUnlessAudit,
  "GET /admin/datastore/{store}/groups": ownedUnlessAudit,
};

export function pbsFilterReply(sim: SimContext, key: string, data: unknown, p: Params, auth: AuthId): unknown {
  const keep = listFilters[key];
  return keep && Array.isArray(data)
    ? data.filter((item) => keep(sim.state, auth, item as Record<string, unknown>, p))
    : data;
}
