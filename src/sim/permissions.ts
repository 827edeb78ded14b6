// Privileges as PVE computes them: ACL entries (path, user/token, role,
// propagate), root@pam as superuser, privilege-separated tokens limited to the
// intersection with their user. Also evaluates the schema's `permissions.check`
// expressions, so a token without rights gets the real 403.
import { scalarText } from "../proxmox/schema-formats.ts";
import type { AuthId } from "./auth.ts";
import { SimError } from "./errors.ts";
import type { SimState } from "./state.ts";

export const PRIVILEGES = [
  "Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit",
  "Group.Allocate", "Mapping.Audit", "Mapping.Modify", "Mapping.Use", "Permissions.Modify",
  "Pool.Allocate", "Pool.Audit", "Realm.Allocate", "Realm.AllocateUser",
  "SDN.Allocate", "SDN.Audit", "SDN.Use",
  "Sys.AccessNetwork", "Sys.Audit", "Sys.Console", "Sys.Incoming", "Sys.Modify", "Sys.PowerMgmt", "Sys.Syslog",
  "User.Modify", "VM.Allocate", "VM.Audit", "VM.Backup", "VM.Clone", "VM.Config.CDROM", "VM.Config.CPU",
  "VM.Config.Cloudinit", "VM.Config.Disk", "VM.Config.HWType", "VM.Config.Memory", "VM.Config.Network",
  "VM.Config.Options", "VM.Console", "VM.GuestAgent.Audit", "VM.GuestAgent.FileRead", "VM.GuestAgent.Unrestricted", "VM.Migrate",
  "VM.PowerMgmt", "VM.Replicate", "VM.Snapshot", "VM.Snapshot.Rollback",
] as const;

const having = (test: (p: string) => boolean): string[] => PRIVILEGES.filter(test);

/** Built-in roles (a subset of PVE's, same names). */
export const ROLES: Record<string, readonly string[]> = {
  Administrator: PRIVILEGES,
  NoAccess: [],
  PVEAuditor: having((p) => p.endsWith(".Audit")),
  PVEVMAdmin: having((p) => p.startsWith("VM.") || ["Datastore.AllocateSpace", "Datastore.Audit", "SDN.Use", "Sys.Audit"].includes(p)),
  PVEVMUser: ["VM.Audit", "VM.Console", "VM.Backup", "VM.PowerMgmt", "VM.Config.CDROM", "VM.Config.Cloudinit", "Datastore.AllocateSpace", "Datastore.Audit"],
  PVEDatastoreAdmin: having((p) => p.startsWith("Datastore.")),
  PVESDNAdmin: having((p) => p.startsWith("SDN.")),
  PVESysAdmin: having((p) => p.startsWith("Sys.") && p !== "Sys.Modify"),
};

const covers = (aclPath: string, path: string): boolean =>
  aclPath === "/" || path === aclPath || path.startsWith(`${aclPath}/`);

/** Privileges of one ugid at a path: the most specific ACL path wins (PVE semantics). */
function aclPrivs(state: SimState, ugid: string, path: string): Set<string> {
  const entries = state.acl.filter((e) => e.ugid === ugid && covers(e.path, path) && (e.propagate || e.path === path));
  if (entries.length === 0) return new Set();
  const deepest = Math.max(...entries.map((e) => e.path.length));
  return new Set(entries.filter((e) => e.path.length === deepest).flatMap((e) => ROLES[e.roleid] ?? []));
}

export function privilegesAt(state: SimState, auth: Pick<AuthId, "userid" | "authid">, path: string): Set<string> {
  const user = auth.userid === "root@pam" ? new Set<string>(PRIVILEGES) : aclPrivs(state, auth.userid, path);
  if (auth.authid === auth.userid) return user;
  const token = state.tokens[auth.authid];
  if (!token?.privsep) return user;
  const own = aclPrivs(state, auth.authid, path);
  return new Set([...own].filter((p) => user.has(p)));
}

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
