// The demo's least-privilege tokens, set up with the simulator's root token exactly as the README
// tells a user to (its `pveum` and `proxmox-backup-manager` lines, read from README.md): the
// LabAutomation role and lab@pve!lab on PVE, lab@pbs with lab@pbs!lab (lab's jobs) and lab@pbs!pve
// (Proxmox's pbs storage) on PBS. Prints `NAME SECRET` lines for the tokens it (re)created; a token
// that exists and whose secret the caller already holds (`--have NAME,...`) is kept, so a second
// demo run changes nothing. A regenerated storage token is also given to the PVE storage using it.
//   npx tsx scripts/demo-tokens.ts --pve URL --pbs URL --ca FILE --token-secret FILE [--have pve1_token,...]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ProxmoxClient } from "../src/proxmox/client.ts";
import { isMissing } from "../src/proxmox/resources/api.ts";
import { applyReadmePbs, readmeRole } from "../test/unit/sim/least-privilege.ts";

const { values } = parseArgs({
  options: {
    pve: { type: "string" },
    pbs: { type: "string" },
    ca: { type: "string" },
    "token-secret": { type: "string" },
    have: { type: "string", default: "" },
  },
});
const have = new Set(values.have.split(",").filter(Boolean));
const secretNames: Record<string, string> = {
  "lab@pve!lab": "pve1_token",
  "lab@pbs!lab": "pbs1_token",
  "lab@pbs!pve": "pbs1_backup_token",
};
const rootSecret = readFileSync(values["token-secret"]!, "utf8").trim();
const connect = (url: string, product: "pve" | "pbs") =>
  ProxmoxClient.connect({
    url,
    product,
    auth: { tokenId: "root@pam!lab", tokenSecret: rootSecret },
    tls: { caFile: values.ca! },
  });
const exists = async (get: () => Promise<unknown>): Promise<boolean> =>
  get().then(
    () => true,
    (e: unknown) => {
      if (isMissing(e) || (e as { status?: number }).status === 400) return false;
      throw e;
    },
  );
const out: string[] = [];

const pve = await connect(values.pve!, "pve");
try {
  const r = readmeRole();
  const privs = r.privs.join(",");
  if (await exists(() => pve.get(`/access/roles/${r.role}`))) await pve.put(`/access/roles/${r.role}`, { privs });
  else await pve.post("/access/roles", { roleid: r.role, privs });
  const pveUsers = await pve.get<{ userid: string }[]>("/access/users");
  if (!pveUsers.some((u) => u.userid === r.user)) await pve.post("/access/users", { userid: r.user });
  await pve.put("/access/acl", { path: r.aclPath, users: r.user, roles: r.role });
  const tokenId = `${r.user}!${r.tokenName}`;
  const path = `/access/users/${r.user}/token/${r.tokenName}`;
  const known = await exists(() => pve.get(path));
  if (!known || !have.has(secretNames[tokenId]!)) {
    if (known) await pve.delete(path);
    const t = await pve.post<{ value: string }>(path, { privsep: r.privsep ? 1 : 0 });
    out.push(`${secretNames[tokenId]} ${t.value}`);
  }
} finally {
  pve.close();
}

const pbs = await connect(values.pbs!, "pbs");
const pve2 = await connect(values.pve!, "pve");
try {
  const acl = await pbs.get<{ ugid: string }[]>("/access/acl");
  const users = new Set(acl.map((e) => e.ugid));
  const fresh: Record<string, string> = {};
  // ACL updates are idempotent; a user or token that exists is kept (a token only if its secret is held).
  await applyReadmePbs(async (method, path, params) => {
    if (method === "POST" && path === "/access/users") {
      if (users.has(String(params?.userid))) return null;
      return pbs.post(path, params).catch((e: unknown) => {
        if (!/already exists/.test(String(e))) throw e;
        return null;
      });
    }
    const token = /^\/access\/users\/([^/]+)\/token\/([^/]+)$/.exec(path);
    if (method === "POST" && token) {
      const tokenId = `${token[1]}!${token[2]}`;
      if (have.has(secretNames[tokenId]!) && users.has(tokenId)) return { tokenid: tokenId, value: "" };
      await pbs.delete(path).catch(() => undefined);
      const t = await pbs.post<{ tokenid: string; value: string }>(path, params);
      fresh[tokenId] = t.value;
      return t;
    }
    return method === "PUT" ? pbs.put(path, params) : pbs.post(path, params);
  });
  for (const [tokenId, value] of Object.entries(fresh)) {
    out.push(`${secretNames[tokenId]} ${value}`);
    // Proxmox's storages that log in as this token keep its secret: hand them the new one.
    const storages = await pve2.get<{ storage: string; type: string }[]>("/nodes/pve/storage");
    for (const s of storages.filter((x) => x.type === "pbs")) {
      const cfg = await pve2.get<{ username?: string }>(`/storage/${s.storage}`);
      if (cfg.username === tokenId) await pve2.put(`/storage/${s.storage}`, { password: value });
    }
  }
} finally {
  pbs.close();
  pve2.close();
}
process.stdout.write(out.map((l) => `${l}\n`).join(""));
