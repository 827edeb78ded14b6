// Proxmox Backup Server's permission model: its own users and API tokens
// (always privilege-separated: a token has what its ACLs grant AND its user
// has), acl.cfg as a tree where the deepest node with entries for an auth id
// wins and only propagating entries reach below their path, root@pam as the
// only superuser (not its tokens), and the built-in roles.
// Sources: pbs-api-types/src/acl.rs (privileges, roles), proxmox-access-control
// acl.rs (AclTree::roles, extract_roles) and cached_user_info.rs (lookup_privs,
// check_privs: "missing permissions 'A|B' on '/path'").
import { randomUUID } from "node:crypto";
import { SimError } from "./errors.ts";
import { scalarText } from "../proxmox/schema-formats.ts";
import type { AuthId } from "./auth.ts";
import type { AclEntry, PbsAccess, SimState } from "./state.ts";

/** PRIVILEGES of acl.rs, plus the RemoteDatastore.* ones PBS 3.3 added for push sync jobs. */
export const PBS_PRIVILEGES = [
  "Sys.Audit",
  "Sys.Modify",
  "Sys.PowerManagement",
  "Datastore.Audit",
  "Datastore.Allocate",
  "Datastore.Modify",
  "Datastore.Read",
  "Datastore.Verify",
  "Datastore.Backup",
  "Datastore.Prune",
  "Permissions.Modify",
  "Remote.Audit",
  "Remote.Modify",
  "Remote.Read",
  "Remote.DatastoreBackup",
  "Remote.DatastoreModify",
  "Remote.DatastorePrune",
  "Sys.Console",
  "Tape.Audit",
  "Tape.Modify",
  "Tape.Write",
  "Tape.Read",
  "Realm.Allocate",
] as const;

const DS_ADMIN = [
  "Datastore.Audit",
  "Datastore.Modify",
  "Datastore.Read",
  "Datastore.Verify",
  "Datastore.Backup",
  "Datastore.Prune",
];

/** The Role enum of acl.rs (ROLE_* constants); the names are the schema's roleid enum. */
export const PBS_ROLES: Readonly<Record<string, readonly string[]>> = {
  Admin: PBS_PRIVILEGES,
  Audit: ["Sys.Audit", "Datastore.Audit"],
  NoAccess: [],
  DatastoreAdmin: DS_ADMIN,
  DatastoreReader: ["Datastore.Audit", "Datastore.Verify", "Datastore.Read"],
  DatastoreBackup: ["Datastore.Backup"],
  DatastorePowerUser: ["Datastore.Prune", "Datastore.Backup"],
  DatastoreAudit: ["Datastore.Audit"],
  RemoteAudit: ["Remote.Audit"],
  RemoteAdmin: ["Remote.Audit", "Remote.Modify", "Remote.Read"],
  RemoteSyncOperator: ["Remote.Audit", "Remote.Read"],
  RemoteSyncPushOperator: ["Remote.Audit", "Remote.DatastoreBackup"],
  RemoteDatastorePowerUser: ["Remote.Audit", "Remote.DatastoreBackup", "Remote.DatastorePrune"],
  RemoteDatastoreAdmin: ["Remote.Audit", "Remote.DatastoreBackup", "Remote.DatastoreModify", "Remote.DatastorePrune"],
  TapeAudit: ["Tape.Audit"],
  TapeAdmin: ["Tape.Audit", "Tape.Modify", "Tape.Read", "Tape.Write"],
  TapeOperator: ["Tape.Audit", "Tape.Read", "Tape.Write"],
  TapeReader: ["Tape.Audit", "Tape.Read"],
};

/**
 * PBS's user database, seeded on first use: root@pam (the PVE side's password) and root@pam!lab with the
 * secret the simulator prints, which (being a token) holds nothing until acl.cfg grants it Admin on /.
 */
export function pbsAccess(state: SimState): PbsAccess {
  if (state.pbs.access) return state.pbs.access;
  const root = state.users["root@pam"];
  const token = state.tokens["root@pam!lab"];
  state.pbs.access = {
    users: { "root@pam": { enable: true, ...(root?.password ? { password: root.password } : {}) } },
    tokens: { "root@pam!lab": { secret: token?.secret ?? randomUUID(), enable: true, comment: "lab simulator" } },
    acl: [{ path: "/", ugid: "root@pam!lab", roleid: "Admin", propagate: true }],
  };
  return state.pbs.access;
}

const components = (path: string): string[] => path.split("/").filter(Boolean);

/** AclTree::roles: walking down the path, a node with entries for the auth id replaces what was found above. */
function roles(acl: readonly AclEntry[], authid: string, path: string): Map<string, boolean> {
  const parts = components(path);
  let found = new Map<string, boolean>();
  for (let depth = 0; depth <= parts.length; depth++) {
    const at = `/${parts.slice(0, depth).join("/")}`;
    const exact = depth === parts.length;
    const here = new Map<string, boolean>();
    for (const e of acl.filter((x) => x.ugid === authid && x.path === at && (x.propagate || exact))) {
      if (e.roleid === "NoAccess") {
        here.clear();
        here.set("NoAccess", e.propagate);
        break;
      }
      here.set(e.roleid, e.propagate);
    }
    if (here.size) found = here;
  }
  return found;
}

/** lookup_privs_details: privilege -> propagates; a token is limited to its user's privileges. */
export function pbsPrivileges(state: SimState, authid: string, path: string): Map<string, boolean> {
  const [userid, token] = authid.split("!");
  if (userid === "root@pam" && !token) return new Map(PBS_PRIVILEGES.map((p) => [p, true]));
  const out = new Map<string, boolean>();
  for (const [role, propagate] of roles(pbsAccess(state).acl, authid, path))
    for (const p of PBS_ROLES[role] ?? []) out.set(p, (out.get(p) ?? false) || propagate);
  if (!token) return out;
  const user = pbsPrivileges(state, userid!, path);
  return new Map([...out].filter(([p]) => user.has(p)).map(([p, prop]) => [p, prop && user.get(p)!]));
}

export const pbsHas = (state: SimState, auth: AuthId, path: string, ...privs: string[]): boolean => {
  const have = pbsPrivileges(state, auth.authid, path);
  return privs.some((p) => have.has(p));
};

/** CachedUserInfo::check_privs: a plain error (HTTP 400) naming the privileges and the path. */
export function pbsCheckPrivs(
  state: SimState,
  auth: AuthId,
  path: string,
  privs: readonly string[],
  partial: boolean,
): void {
  const have = pbsPrivileges(state, auth.authid, path);
  const ok = partial ? privs.some((p) => have.has(p)) : privs.every((p) => have.has(p));
  if (!ok) throw new SimError(400, `missing permissions '${privs.join(partial ? "|" : "&")}' on '${path}'`);
}

/** What the router answers when a method's `access.permission` fails (proxmox-rest-server). */
export const forbidden = (): SimError => new SimError(403, "permission check failed");

interface SchemaPermission {
  user?: string;
  check?: { path: string[]; privs: string[]; partial: boolean | number };
  or?: SchemaPermission[];
  and?: SchemaPermission[];
  userParam?: string;
}

/** Permission::{Anybody, World, Privilege, UserParam, Or, And} as the schema writes them. */
export function schemaAllows(
  state: SimState,
  auth: AuthId,
  perm: SchemaPermission | undefined,
  params: Record<string, unknown>,
): boolean {
  if (!perm || perm.user === "all" || perm.user === "world") return true;
  if (perm.or) return perm.or.some((p) => schemaAllows(state, auth, p, params));
  if (perm.and) return perm.and.every((p) => schemaAllows(state, auth, p, params));
  if (perm.userParam) return !auth.tokenid && params[perm.userParam] === auth.userid;
  if (perm.check) {
    const path = `/${perm.check.path.map((c) => c.replace(/^\{(.+)\}$/, (_, k: string) => scalarText(params[k] ?? ""))).join("/")}`;
    const have = pbsPrivileges(state, auth.authid, path);
    return perm.check.partial ? perm.check.privs.some((p) => have.has(p)) : perm.check.privs.every((p) => have.has(p));
  }
  return false;
}

/**
 * Who Proxmox's `pbs` storage is on the PBS: its username (a token or user) with the password it keeps in
 * /etc/pve/priv/storage/<id>.pw. What PVE's PBS client hits when that login fails.
 */
export const pbsStorageAuth = (state: SimState, sid: string): AuthId =>
  pbsLogin(state, String(state.storage[sid]?.username ?? ""), state.storageSecrets[sid]);

/** A PBS login with a token or a password (PVE's PBS client), or the 401 PVE reports. */
export function pbsLogin(state: SimState, authid: string, secret: string | undefined): AuthId {
  const access = pbsAccess(state);
  const [userid, tokenid] = authid.split("!");
  const ok = tokenid
    ? access.tokens[authid]?.secret === secret && access.tokens[authid]?.enable
    : access.users[userid!]?.password !== undefined && access.users[userid!]?.password === secret;
  if (!ok || !access.users[userid!]?.enable) throw new Error("error fetching datastores - 401 Unauthorized");
  return { userid: userid!, ...(tokenid ? { tokenid } : {}), authid, ticket: false };
}

/** The backup (writer) and reader protocols' checks as the PVE task log shows them. */
export function pbsStorageNeeds(
  state: SimState,
  sid: string,
  what: "backup" | "restore" | "prune",
  owner?: string,
): AuthId {
  const auth = pbsStorageAuth(state, sid);
  const path = `/datastore/${String(state.storage[sid]?.datastore)}`;
  const ownsIt = owner === undefined || owner === auth.authid;
  if (what === "backup") {
    if (!pbsHas(state, auth, path, "Datastore.Backup"))
      throw new Error(`backup connect failed: command error: missing permissions 'Datastore.Backup' on '${path}'`);
  } else if (what === "restore") {
    const read = pbsHas(state, auth, path, "Datastore.Read");
    if (!read && !pbsHas(state, auth, path, "Datastore.Backup")) throw new Error(`no permissions on ${path}`);
    if (!read && !ownsIt) throw new Error(`backup owner check failed (${auth.authid} != ${owner})`);
  } else {
    const modify = pbsHas(state, auth, path, "Datastore.Modify");
    if (!modify && !pbsHas(state, auth, path, "Datastore.Prune")) throw new Error("permission check failed");
    if (!modify && !ownsIt) throw new Error(`backup owner check failed (${auth.authid} != ${owner})`);
  }
  return auth;
}

/** What the storage's login sees of a datastore's snapshots: all with Datastore.Audit, else its own groups. */
export function pbsStorageSees(state: SimState, sid: string, owner: string): boolean {
  let auth: AuthId;
  try {
    auth = pbsStorageAuth(state, sid);
  } catch {
    return false;
  }
  const path = `/datastore/${String(state.storage[sid]?.datastore)}`;
  if (pbsHas(state, auth, path, "Datastore.Audit")) return true;
  return pbsHas(state, auth, path, "Datastore.Backup") && owner === auth.authid;
}
