// Login tickets, users, API tokens, ACLs and the permission query lab's preflight uses.
import { randomUUID } from "node:crypto";
import type { Call, Routes } from "../context.ts";
import { flag, int, need, str } from "../context.ts";
import { SimError, fail, paramError } from "../errors.ts";
import { makeTicket, verifyTicket } from "../auth.ts";
import { PRIVILEGES, ROLES, checkPrivs, permissionsAt, privilegesAt, rolePrivs } from "../permissions.ts";
import type { Item } from "../state.ts";
import { splitList } from "../../proxmox/schema-formats.ts";

function login(c: Call): Item | Record<string, unknown> {
  const { state } = c.sim;
  const realm = str(c, "realm");
  const name = need(c, "username");
  const userid = name.includes("@") || !realm ? name : `${name}@${realm}`;
  const password = need(c, "password");
  const user = state.users[userid];
  const ok = user?.enable && (user.password === password || verifyTicket(state, password) === userid);
  if (!ok) throw new SimError(401, "authentication failure");
  const { ticket, csrf } = makeTicket(state, userid);
  const at = privilegesAt(state, { userid, authid: userid }, "/");
  const cap = (prefix: string): Record<string, number> =>
    Object.fromEntries([...at].filter((p) => p.startsWith(prefix)).map((p) => [p, 1]));
  return {
    username: userid,
    ticket,
    CSRFPreventionToken: csrf,
    clustername: state.clusterName,
    cap: {
      vms: cap("VM."),
      storage: cap("Datastore."),
      nodes: cap("Sys."),
      sdn: cap("SDN."),
      access: cap("User."),
      dc: cap("Sys.Audit"),
    },
  };
}

const ROOTS = ["/", "/access", "/mapping", "/nodes", "/pool", "/sdn", "/storage", "/vms"];

/**
 * Values are the propagate flag of the ACL that grants each privilege. A user may
 * read its own and its tokens' permissions; a token only its own (PVE compares
 * the target's user with the caller's auth id); anything else needs Sys.Audit on /access.
 */
function permissions(c: Call): Record<string, Record<string, number>> {
  const { state } = c.sim;
  const target = str(c, "userid") ?? c.auth.authid;
  const owned = !c.auth.tokenid && target.split("!")[0] === c.auth.userid;
  if (target !== c.auth.authid && !owned) checkPrivs(state, c.auth, "/access", ["Sys.Audit"]);
  const userid = target.split("!")[0]!;
  const paths = str(c, "path") ? [str(c, "path")!] : [...new Set([...ROOTS, ...state.acl.map((e) => e.path)])];
  const out: Record<string, Record<string, number>> = {};
  for (const path of paths) {
    const privs = permissionsAt(state, { userid, authid: target }, path);
    if (privs.size || str(c, "path"))
      out[path] = Object.fromEntries(
        [...privs].sort(([a], [b]) => a.localeCompare(b)).map(([p, prop]) => [p, prop ? 1 : 0]),
      );
  }
  return out;
}

function userOf(c: Call): string {
  const userid = need(c, "userid");
  if (!c.sim.state.users[userid]) throw fail(`no such user ('${userid}')`);
  return userid;
}

const tokenInfo = (t: { privsep: boolean; comment?: string; expire?: number }): Item => ({
  privsep: t.privsep ? 1 : 0,
  ...(t.comment ? { comment: t.comment } : {}),
  expire: t.expire ?? 0,
});

function createToken(c: Call): Item | Record<string, unknown> {
  const full = `${userOf(c)}!${need(c, "tokenid")}`;
  if (c.sim.state.tokens[full]) throw paramError({ tokenid: "Token already exists." });
  const token = {
    secret: randomUUID(),
    privsep: flag(c, "privsep") ?? true,
    comment: str(c, "comment"),
    expire: int(c, "expire"),
  };
  c.sim.state.tokens[full] = token;
  return { "full-tokenid": full, info: tokenInfo(token), value: token.secret };
}

function tokenOf(c: Call): string {
  const full = `${userOf(c)}!${need(c, "tokenid")}`;
  if (!c.sim.state.tokens[full]) throw fail(`no such token '${need(c, "tokenid")}' for user '${need(c, "userid")}'`);
  return full;
}

const SEG = "[A-Za-z0-9._-]+";
const ACL_PATH = new RegExp(
  `^(/|/access(/groups(/${SEG})?|/realm(/${SEG})?)?|/nodes(/${SEG})?|/pool(/${SEG})?|/sdn(/zones(/${SEG}(/${SEG}(/[1-9][0-9]{0,3})?)?)?)?|/storage(/${SEG})?|/vms(/[1-9][0-9]{2,})?|/mapping(/${SEG}(/${SEG})?)?)$`,
);

/** API2/Role.pm; errors inside lock_user_config carry its "<what> failed: " prefix. */
function checkPrivList(text: string): string[] {
  const privs = splitList(text);
  const bad = privs.find((p) => !PRIVILEGES.includes(p));
  if (bad) throw paramError({ privs: `invalid format - invalid privilege '${bad}'\n` });
  return privs;
}

function customRole(c: Call, what: string): string {
  const roleid = need(c, "roleid");
  if (ROLES[roleid])
    throw fail(
      `${what} failed: auto-generated role '${roleid}' cannot be ${what === "update role" ? "modified" : "deleted"}`,
    );
  if (!c.sim.state.roles?.[roleid]) throw fail(`${what} failed: role '${roleid}' does not exist`);
  return roleid;
}

const roleRoutes: Routes = {
  "GET /access/roles": (c) => [
    ...Object.entries(ROLES).map(([roleid, privs]) => ({ roleid, privs: privs.join(","), special: 1 })),
    ...Object.entries(c.sim.state.roles ?? {}).map(([roleid, privs]) => ({
      roleid,
      privs: [...privs].sort().join(","),
      special: 0,
    })),
  ],
  "POST /access/roles": (c) => {
    const roleid = need(c, "roleid");
    const privs = checkPrivList(str(c, "privs") ?? "");
    if (rolePrivs(c.sim.state, roleid)) throw fail(`create role failed: role '${roleid}' already exists`);
    (c.sim.state.roles ??= {})[roleid] = [...new Set(privs)].sort();
    return null;
  },
  "GET /access/roles/{roleid}": (c) => {
    const privs = rolePrivs(c.sim.state, need(c, "roleid"));
    if (!privs) throw fail(`role '${need(c, "roleid")}' does not exist`);
    return Object.fromEntries(privs.map((p) => [p, 1]));
  },
  "PUT /access/roles/{roleid}": (c) => {
    const roleid = customRole(c, "update role");
    const privs = checkPrivList(str(c, "privs") ?? "");
    const roles = c.sim.state.roles!;
    roles[roleid] = [...new Set([...(flag(c, "append") ? roles[roleid]! : []), ...privs])].sort();
    return null;
  },
  "DELETE /access/roles/{roleid}": (c) => {
    const roleid = customRole(c, "delete role");
    delete c.sim.state.roles![roleid];
    c.sim.state.acl = c.sim.state.acl.filter((e) => e.roleid !== roleid);
    return null;
  },
};

function updateAcl(c: Call): null {
  const { state } = c.sim;
  const path = need(c, "path");
  const roles = splitList(need(c, "roles"));
  // AccessControl.pm check_path: the ACL paths PVE knows.
  if (!ACL_PATH.test(path)) throw paramError({ path: `invalid ACL path '${path}'` });
  for (const r of roles) if (!rolePrivs(state, r)) throw fail(`role '${r}' does not exist`);
  const ugids = [
    ...splitList(str(c, "users") ?? ""),
    ...splitList(str(c, "tokens") ?? ""),
    ...splitList(str(c, "groups") ?? "").map((g) => `@${g}`),
  ];
  const remove = flag(c, "delete") ?? false;
  state.acl = state.acl.filter((e) => !(e.path === path && ugids.includes(e.ugid) && roles.includes(e.roleid)));
  if (!remove) {
    for (const ugid of ugids)
      for (const roleid of roles) state.acl.push({ path, ugid, roleid, propagate: flag(c, "propagate") ?? true });
  }
  return null;
}

export const accessRoutes: Routes = {
  "POST /access/ticket": login,
  "GET /access/ticket": () => null,
  "GET /access/permissions": permissions,
  "GET /access/users": (c) =>
    Object.entries(c.sim.state.users).map(([userid, u]) => ({
      userid,
      enable: u.enable ? 1 : 0,
      ...(u.comment ? { comment: u.comment } : {}),
    })),
  "POST /access/users": (c) => {
    const userid = need(c, "userid");
    if (c.sim.state.users[userid]) throw fail(`create user failed: user '${userid}' already exists`);
    c.sim.state.users[userid] = {
      password: str(c, "password"),
      enable: flag(c, "enable") ?? true,
      comment: str(c, "comment"),
    };
    return null;
  },
  "DELETE /access/users/{userid}": (c) => {
    const userid = userOf(c);
    delete c.sim.state.users[userid];
    for (const t of Object.keys(c.sim.state.tokens)) if (t.startsWith(`${userid}!`)) delete c.sim.state.tokens[t];
    c.sim.state.acl = c.sim.state.acl.filter((e) => e.ugid.split("!")[0] !== userid);
    return null;
  },
  "GET /access/users/{userid}/token": (c) => {
    const userid = userOf(c);
    return Object.entries(c.sim.state.tokens)
      .filter(([id]) => id.startsWith(`${userid}!`))
      .map(([id, t]) => ({ tokenid: id.split("!")[1]!, ...tokenInfo(t) }));
  },
  "POST /access/users/{userid}/token/{tokenid}": createToken,
  "GET /access/users/{userid}/token/{tokenid}": (c) => tokenInfo(c.sim.state.tokens[tokenOf(c)]!),
  "DELETE /access/users/{userid}/token/{tokenid}": (c) => {
    const full = tokenOf(c);
    delete c.sim.state.tokens[full];
    c.sim.state.acl = c.sim.state.acl.filter((e) => e.ugid !== full);
    return null;
  },
  "GET /access/acl": (c) =>
    c.sim.state.acl.map((e) => ({
      path: e.path,
      ugid: e.ugid.replace(/^@/, ""),
      type: e.ugid.startsWith("@") ? "group" : e.ugid.includes("!") ? "token" : "user",
      roleid: e.roleid,
      propagate: e.propagate ? 1 : 0,
    })),
  "PUT /access/acl": updateAcl,
  ...roleRoutes,
};
