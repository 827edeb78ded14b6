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

/** One `proxmox-backup-manager` line of README.md's "Least-privilege PBS tokens" section. */
export type PbsCommand =
  | { kind: "user"; userid: string }
  | { kind: "token"; userid: string; name: string }
  | { kind: "acl"; path: string; role: string; authId: string; propagate: boolean };

export function readmePbsCommands(): PbsCommand[] {
  const text = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
  const section = /### Least-privilege PBS tokens\n([\s\S]*?)\n### /.exec(text)?.[1] ?? "";
  const out: PbsCommand[] = [];
  for (const line of section.split("\n").filter((l) => l.startsWith("proxmox-backup-manager "))) {
    const words = line
      .replace(/\s+#.*$/, "")
      .split(/\s+/)
      .slice(1)
      .map((w) => w.replace(/^'(.*)'$/, "$1"));
    const [cmd, sub, ...args] = words;
    if (cmd === "user" && sub === "create") out.push({ kind: "user", userid: args[0]! });
    else if (cmd === "user" && sub === "generate-token") out.push({ kind: "token", userid: args[0]!, name: args[1]! });
    else if (cmd === "acl" && sub === "update") {
      const opt = (name: string): string | undefined => args[args.indexOf(name) + 1];
      out.push({
        kind: "acl",
        path: args[0]!,
        role: args[1]!,
        authId: opt("--auth-id")!,
        propagate: args.includes("--propagate") ? opt("--propagate") !== "false" : true,
      });
    } else throw new Error(`README.md: cannot read the PBS command: ${line}`);
  }
  if (!out.length) throw new Error("README.md: no proxmox-backup-manager commands under 'Least-privilege PBS tokens'");
  return out;
}

/** The README's PBS commands as PBS API calls with root's token; `skip` leaves one ACL line out. Returns token id -> secret. */
export async function applyReadmePbs(ok: Call, skip?: (c: PbsCommand) => boolean): Promise<Record<string, string>> {
  const secrets: Record<string, string> = {};
  for (const c of readmePbsCommands()) {
    if (skip?.(c)) continue;
    if (c.kind === "user") await ok("POST", "/access/users", { userid: c.userid });
    else if (c.kind === "token") {
      const t = (await ok("POST", `/access/users/${c.userid}/token/${c.name}`)) as { tokenid: string; value: string };
      secrets[t.tokenid] = t.value;
    } else
      await ok("PUT", "/access/acl", {
        path: c.path,
        role: c.role,
        "auth-id": c.authId,
        propagate: c.propagate ? 1 : 0,
      });
  }
  return secrets;
}
