// Privileges as PVE computes them: ACL entries (path, user/token, role,
// propagate), root@pam as superuser, privilege-separated tokens limited to the
// intersection with their user. Also evaluates the schema's `permissions.check`
// expressions, so a token without rights gets the real 403.
// Roles: pve-access-control src/PVE/AccessControl.pm ($privgroups, create_roles).
import { scalarText } from "../proxmox/schema-formats.ts";
import type { AuthId } from "./auth.ts";
import { SimError } from "./errors.ts";
import type { SimState } from "./state.ts";

interface PrivGroup {
  root: string[];
  admin: string[];
  user: string[];
  audit: string[];
}

/**
 * $privgroups of AccessControl.pm, with PVE 9's changes: VM.Monitor gone, the
 * VM.GuestAgent.* privileges, VM.Replicate and Sys.AccessNetwork added (the
 * PVE 9.1 schema's list of privileges, GET /access/roles/{roleid}).
 */
const PRIV_GROUPS: Record<string, PrivGroup> = {
  VM: {
    root: [],
    admin: [
      "VM.Config.Disk",
      "VM.Config.CPU",
      "VM.Config.Memory",
      "VM.Config.Network",
      "VM.Config.HWType",
      "VM.Config.Options",
      "VM.Allocate",
      "VM.Clone",
      "VM.Migrate",
      "VM.Replicate",
      "VM.Snapshot",
      "VM.Snapshot.Rollback",
      "VM.GuestAgent.FileRead",
      "VM.GuestAgent.FileWrite",
      "VM.GuestAgent.FileSystemMgmt",
      "VM.GuestAgent.Unrestricted",
    ],
    user: ["VM.Config.CDROM", "VM.Config.Cloudinit", "VM.Console", "VM.Backup", "VM.PowerMgmt", "VM.GuestAgent.Audit"],
    audit: ["VM.Audit"],
  },
  Sys: {
    root: ["Sys.PowerMgmt", "Sys.Modify", "Sys.Incoming", "Sys.AccessNetwork"],
    admin: ["Sys.Console", "Sys.Syslog"],
    user: [],
    audit: ["Sys.Audit"],
  },
  Datastore: {
    root: [],
    admin: ["Datastore.Allocate", "Datastore.AllocateTemplate"],
    user: ["Datastore.AllocateSpace"],
    audit: ["Datastore.Audit"],
  },
  SDN: { root: [], admin: ["SDN.Allocate", "SDN.Audit"], user: ["SDN.Use"], audit: ["SDN.Audit"] },
  User: {
    root: ["Realm.Allocate"],
    admin: ["User.Modify", "Group.Allocate", "Realm.AllocateUser"],
    user: [],
    audit: [],
  },
  Pool: { root: [], admin: ["Pool.Allocate"], user: ["Pool.Audit"], audit: ["Pool.Audit"] },
  Mapping: { root: [], admin: ["Mapping.Modify"], user: ["Mapping.Use"], audit: ["Mapping.Audit"] },
};

const groups = Object.entries(PRIV_GROUPS);
export const PRIVILEGES: readonly string[] = [
  ...new Set(["Permissions.Modify", ...groups.flatMap(([, g]) => [...g.root, ...g.admin, ...g.user, ...g.audit])]),
].sort();

/** create_roles(): PVE<Cat>Admin, PVE<Cat>User (when the category has user privileges), PVEAdmin, PVEAuditor, PVETemplateUser. */
function builtinRoles(): Record<string, readonly string[]> {
  const roles: Record<string, Set<string>> = {
    NoAccess: new Set(),
    Administrator: new Set(PRIVILEGES),
    PVEAdmin: new Set(),
    PVEAuditor: new Set(),
  };
  for (const [cat, g] of groups) {
    roles[`PVE${cat}Admin`] = new Set([...g.admin, ...g.user, ...g.audit]);
    for (const p of [...g.admin, ...g.user, ...g.audit]) roles.PVEAdmin!.add(p);
    if (g.user.length) roles[`PVE${cat}User`] = new Set([...g.user, ...g.audit]);
    for (const p of g.audit) roles.PVEAuditor!.add(p);
  }
  roles.PVEAdmin!.delete("Mapping.Modify");
  roles.PVETemplateUser = new Set(["VM.Clone", "VM.Audit"]);
  return Object.fromEntries(Object.entries(roles).map(([k, v]) => [k, [...v].sort()]));
}

/** Built-in ("special") roles: same names and privileges as PVE's. */
export const ROLES: Readonly<Record<string, readonly string[]>> = builtinRoles();

/** A role's privileges: built-in, or custom (user.cfg `role:` lines, POST /access/roles). */
export const rolePrivs = (state: SimState, roleid: string): readonly string[] | undefined =>
  ROLES[roleid] ?? state.roles?.[roleid];

const covers = (aclPath: string, path: string): boolean =>
  aclPath === "/" || path === aclPath || path.startsWith(`${aclPath}/`);

/** Privilege -> propagate flag of one ugid at a path: the most specific ACL path wins (PVE semantics). */
function aclPrivs(state: SimState, ugid: string, path: string): Map<string, boolean> {
  const entries = state.acl.filter((e) => e.ugid === ugid && covers(e.path, path) && (e.propagate || e.path === path));
  const out = new Map<string, boolean>();
  if (entries.length === 0) return out;
  const deepest = Math.max(...entries.map((e) => e.path.length));
  for (const e of entries.filter((x) => x.path.length === deepest)) {
    for (const p of rolePrivs(state, e.roleid) ?? []) out.set(p, (out.get(p) ?? false) || e.propagate);
  }
  return out;
}

/** What GET /access/permissions shows: privilege -> propagate (PVE::RPCEnvironment::permissions). */
export function permissionsAt(
  state: SimState,
  auth: Pick<AuthId, "userid" | "authid">,
  path: string,
): Map<string, boolean> {
  const user =
    auth.userid === "root@pam" ? new Map(PRIVILEGES.map((p) => [p, true])) : aclPrivs(state, auth.userid, path);
  if (auth.authid === auth.userid) return user;
  const token = state.tokens[auth.authid];
  if (!token?.privsep) return user;
  const own = aclPrivs(state, auth.authid, path);
  return new Map([...own].filter(([p]) => user.has(p)).map(([p, prop]) => [p, prop && user.get(p)!]));
}

export const privilegesAt = (state: SimState, auth: Pick<AuthId, "userid" | "authid">, path: string): Set<string> =>
  new Set(permissionsAt(state, auth, path).keys());

export function checkPrivs(state: SimState, auth: AuthId, path: string, privs: readonly string[], any = false): void {
  const have = privilegesAt(state, auth, path);
  const missing = privs.filter((p) => !have.has(p));
  if (any ? missing.length === privs.length : missing.length > 0) {
    throw new SimError(403, `Permission check failed (${path}, ${missing.join("|")})`);
  }
}

export const hasPriv = (state: SimState, auth: AuthId, path: string, priv: string): boolean =>
  privilegesAt(state, auth, path).has(priv);

type Expr = readonly unknown[];

/** Evaluate a schema `permissions.check` expression; throws 403 when it fails. */
export function checkExpression(state: SimState, auth: AuthId, expr: Expr, params: Record<string, unknown>): void {
  const [op, ...args] = expr;
  const sub = (path: string): string => path.replace(/\{([^}]+)\}/g, (_, k: string) => scalarText(params[k] ?? ""));
  switch (op) {
    case "and":
      for (const e of args) checkExpression(state, auth, e as Expr, params);
      return;
    case "or": {
      let last: SimError | undefined;
      for (const e of args) {
        try {
          return checkExpression(state, auth, e as Expr, params);
        } catch (err) {
          if (!(err instanceof SimError)) throw err;
          last = err;
        }
      }
      throw last ?? new SimError(403, "Permission check failed");
    }
    case "perm": {
      const [path, privs, ...opts] = args as [string, string[], ...unknown[]];
      const requireParam = opts.indexOf("require_param");
      if (requireParam >= 0 && params[opts[requireParam + 1] as string] === undefined) {
        throw new SimError(403, "Permission check failed");
      }
      return checkPrivs(state, auth, sub(path), privs, opts.includes("any"));
    }
    case "perm-modify":
      return checkPrivs(state, auth, sub(args[0] as string), ["Permissions.Modify"]);
    case "userid-param":
      if (args[0] === "self" && params.userid === auth.userid) return;
      return checkPrivs(state, auth, "/access", ["User.Modify"]);
    default:
      return checkPrivs(state, auth, "/access", ["User.Modify"]); // userid-group and friends: admin only
  }
}
