// The README's least-privilege PVE setup, read from the README itself (so the
// tests check what users are told to run), and applied to a simulator over the API.
import { readFileSync } from "node:fs";

export interface ReadmeRole {
  role: string;
  privs: string[];
  user: string;
  aclPath: string;
  tokenName: string;
  privsep: boolean;
}

/** The `pveum` lines of README.md's "Least-privilege token" section. */
export function readmeRole(): ReadmeRole {
  const text = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
  const role = /pveum role add (\S+) -privs "([^"]+)"/.exec(text);
  const acl = /pveum user add (\S+) && pveum acl modify (\S+) -user \S+ -role (\S+)/.exec(text);
  const token = /pveum user token add (\S+) (\S+) --privsep (\d)/.exec(text);
  if (!role || !acl || !token)
    throw new Error("README.md: the least-privilege pveum commands are not where the test expects them");
  if (acl[3] !== role[1] || token[1] !== acl[1])
    throw new Error("README.md: the ACL/token lines name another role or user than `pveum role add`");
  return {
    role: role[1]!,
    privs: role[2]!.split(/\s+/),
    user: acl[1]!,
    aclPath: acl[2]!,
    tokenName: token[2]!,
    privsep: token[3] === "1",
  };
}

type Call = (method: string, path: string, params?: Record<string, string | number>) => Promise<unknown>;

/** pveum role add / user add / acl modify / user token add, as API calls with root's token; returns the new token's id and secret. */
export async function applyReadmeRole(
  ok: Call,
  r: ReadmeRole = readmeRole(),
  privs: string[] = r.privs,
): Promise<{ tokenId: string; secret: string }> {
  await ok("POST", "/access/roles", { roleid: r.role, privs: privs.join(",") });
  await ok("POST", "/access/users", { userid: r.user });
  await ok("PUT", "/access/acl", { path: r.aclPath, users: r.user, roles: r.role });
  const t = (await ok("POST", `/access/users/${r.user}/token/${r.tokenName}`, { privsep: r.privsep ? 1 : 0 })) as {
    "full-tokenid": string;
    value: string;
  };
  return { tokenId: t["full-tokenid"], secret: t.value };
}
