// An Ansible inventory (parsed, with its group_vars/host_vars) -> one lab
// inventory file. Groups keep their hosts, children and vars; ansible_* vars
// become connection fields. The result is loaded back with lab's own loader and
// compared host by host with what Ansible resolves; where lab's precedence would
// give another value, the value is pinned on the host and reported.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Document } from "yaml";
import { LabError } from "../errors.ts";
import { loadInventory } from "../inventory/inventory.ts";
import type { HostInfo } from "../engine/types.ts";
import { hasVault, Vaulted, type AnsibleInventory, type Origin, type VarsOwner } from "./ansible-model.ts";
import { isAnsibleVar, isTemplated, mapConnection, type LabConnection } from "./connection.ts";
import { ansibleHostVars, type VarsFiles } from "./precedence.ts";
import type { ReportItem } from "./report.ts";
import type { VarsFile } from "./vars-dirs.ts";

type Vars = Record<string, unknown>;
interface LabGroup {
  hosts?: string[];
  children?: string[];
  vars?: Vars;
  connection?: LabConnection;
}
type LabHost = LabConnection & { vars?: Vars };
export interface LabInventoryData {
  connection?: LabConnection;
  vars?: Vars;
  groups?: Record<string, LabGroup>;
  hosts?: Record<string, LabHost>;
}

export interface Converted {
  data: LabInventoryData;
  /** The file's text, with the schema modeline. */
  text: string;
  report: ReportItem[];
  /** Ansible name -> lab name. */
  hostNames: ReadonlyMap<string, string>;
  groupNames: ReadonlyMap<string, string>;
}

export interface ConvertOptions {
  /** The inventory as given (shown in the file's header and in the commands the report suggests). */
  source: string;
  /** Project root: lab resolves relative key_file paths against it. */
  root: string;
}

/** A var holding a vaulted value, in one scope ("group db", "host db1"). */
interface VaultUse {
  key: string;
  value: string;
  paths: string[];
  scope: string;
  origin?: Origin;
  target: string;
}

const LAB_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export async function convertInventory(
  inv: AnsibleInventory,
  files: VarsFiles,
  opts: ConvertOptions,
): Promise<Converted> {
  const report: ReportItem[] = [];
  const taken = new Set<string>();
  const labName = (name: string, kind: "host" | "group", origin?: Origin) => {
    let n = LAB_NAME.test(name) ? name : name.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^[^A-Za-z0-9]+/, "") || kind;
    if (taken.has(n)) n = kind === "group" ? `${n}-group` : n;
    for (let i = 2; taken.has(n); i++) n = `${n.replace(/-\d+$/, "")}-${i}`;
    taken.add(n);
    if (n !== name)
      report.push({
        kind: "rename",
        ...(origin ? { where: origin } : {}),
        message: `${kind} "${name}" is "${n}" in lab`,
        ...(kind === "host" ? { hint: `its address stays "${name}" unless ansible_host sets another` } : {}),
      });
    return n;
  };
  const hostNames = new Map([...inv.hosts.values()].map((h) => [h.name, labName(h.name, "host", h.origin)]));
  const groupNames = new Map(
    [...inv.groups.values()].filter((g) => g.name !== "all").map((g) => [g.name, labName(g.name, "group", g.origin)]),
  );

  // One scope's vars: inline, then its group_vars/host_vars files (Ansible loads files after inline vars).
  const vaults: VaultUse[] = [];
  const scope = (owner: VarsOwner | undefined, fileList: VarsFile[] | undefined, label: string, target: string) => {
    const vars: Vars = { ...(owner?.vars ?? {}) };
    const origins: Record<string, Origin> = { ...(owner?.varOrigins ?? {}) };
    for (const f of fileList ?? []) {
      if (f.vaulted) {
        report.push({
          kind: "vault",
          where: { file: f.file },
          message: `the whole file is encrypted with ansible-vault (${label})`,
          hint: `see its vars: ansible-vault view ${f.file}\nthen, for each: lab secrets set NAME (reads the value on stdin) and use lab.secret("NAME") in the role`,
        });
      }
      Object.assign(vars, f.vars);
      Object.assign(origins, f.origins);
    }
    const plain: Vars = {};
    for (const [k, v] of Object.entries(vars)) {
      if (hasVault(v) && !isAnsibleVar(k))
        vaults.push({
          key: k,
          value: JSON.stringify(v),
          paths: vaultPaths(v, k),
          scope: label,
          ...(origins[k] ? { origin: origins[k] } : {}),
          target,
        });
      else if (isTemplated(v) && !isAnsibleVar(k)) {
        report.push({
          kind: "template",
          ...(origins[k] ? { where: origins[k] } : {}),
          message: `${k} (${label}) is a Jinja2 template: ${JSON.stringify(v)}`,
          hint: "compute it in the playbook from host.vars instead",
        });
      }
      if (!hasVault(v) && !isAnsibleVar(k)) plain[k] = v;
    }
    const { conn, unmapped } = mapConnection(vars, origins);
    if (conn.bastion !== undefined) {
      const b = hostNames.get(conn.bastion);
      const where = origins.ansible_ssh_common_args ?? origins.ansible_ssh_extra_args;
      if (b) conn.bastion = b;
      else {
        report.push({
          kind: "connection",
          ...(where ? { where } : {}),
          message: `ProxyJump ${conn.bastion} (${label}) is not a host of the inventory`,
          hint: "add the jump host to the inventory: lab's bastion names an inventory host",
        });
        delete conn.bastion;
      }
    }
    for (const u of unmapped)
      report.push({
        kind: "connection",
        ...(u.origin ? { where: u.origin } : {}),
        message: `${u.key}${u.secret ? "" : `=${hasVault(u.value) ? "!vault" : JSON.stringify(u.value)}`} (${label}): ${u.why}`,
        hint: u.hint,
      });
    return { vars: plain, conn };
  };

  const data: LabInventoryData = {};
  const all = scope(inv.groups.get("all"), files.group.get("all"), "group all", "all");
  if (Object.keys(all.conn).length) data.connection = all.conn;
  if (Object.keys(all.vars).length) data.vars = all.vars;
  const groups: Record<string, LabGroup> = {};
  for (const g of inv.groups.values()) {
    if (g.name === "all") continue;
    const s = scope(g, files.group.get(g.name), `group ${g.name}`, g.hosts[0] ?? g.name);
    if (g.name === "ungrouped" && g.hosts.length === 0 && !Object.keys(s.vars).length && !Object.keys(s.conn).length)
      continue;
    groups[groupNames.get(g.name)!] = {
      ...(g.hosts.length ? { hosts: g.hosts.map((h) => hostNames.get(h)!) } : {}),
      ...(g.children.length ? { children: g.children.map((c) => groupNames.get(c)!) } : {}),
      ...(Object.keys(s.vars).length ? { vars: s.vars } : {}),
      ...(Object.keys(s.conn).length ? { connection: s.conn } : {}),
    };
  }
  const hosts: Record<string, LabHost> = {};
  for (const h of inv.hosts.values()) {
    const s = scope(h, files.host.get(h.name), `host ${h.name}`, h.name);
    const name = hostNames.get(h.name)!;
    hosts[name] = {
      ...s.conn,
      ...(name !== h.name && !s.conn.address ? { address: h.name } : {}),
      ...(Object.keys(s.vars).length ? { vars: s.vars } : {}),
    };
  }
  if (Object.keys(groups).length) data.groups = groups;
  data.hosts = hosts;

  reportVaults(vaults, opts.source, report);
  await pinDifferences(inv, files, data, hostNames, opts, report);

  const users = [...inv.hosts.keys()].filter((h) => {
    const c = mapConnection(ansibleHostVars(inv, files, h).vars, {}).conn;
    return c.user === undefined && c.type !== "local";
  });
  if (users.length) {
    report.push({
      kind: "connection",
      message: `no ansible_user for ${users.length} host(s) (${users
        .slice(0, 5)
        .map((h) => hostNames.get(h))
        .join(", ")}${users.length > 5 ? ", ..." : ""}): Ansible logs in as your local user, lab as root`,
      hint: "set connection: { user: NAME } at the top of the converted file if root is not right",
    });
  }
  return { data, text: render(data, opts.source), report, hostNames, groupNames };
}

/** One secret per distinct value: the same ciphertext in several scopes (as `ansible-inventory --list --yaml` repeats group vars on every host) is one secret. */
function reportVaults(vaults: VaultUse[], source: string, report: ReportItem[]): void {
  const byValue = new Map<string, VaultUse[]>();
  for (const v of vaults) {
    const id = `${v.key}\0${v.value}`;
    byValue.set(id, [...(byValue.get(id) ?? []), v]);
  }
  const distinct = new Map<string, number>();
  for (const [v] of byValue.values()) distinct.set(v!.key, (distinct.get(v!.key) ?? 0) + 1);
  for (const uses of byValue.values()) {
    const v = uses[0]!;
    const prefix = distinct.get(v.key) === 1 ? "" : `${v.scope.split(" ")[1]}_`;
    const names = v.paths.map((p) => {
      const base = prefix + p.replace(/[^A-Za-z0-9_.-]/g, "_");
      return SECRET_NAME.test(base) ? base : `s_${base}`;
    });
    const scopes = uses.map((u) => u.scope);
    report.push({
      kind: "vault",
      ...(v.origin ? { where: v.origin } : {}),
      message: `${v.key} (${scopes.slice(0, 3).join(", ")}${scopes.length > 3 ? ` and ${scopes.length - 3} more` : ""}) is vaulted${v.paths[0] === v.key ? "" : ` (at ${v.paths.join(", ")})`}: left out of the lab inventory`,
      hint:
        `ansible -i ${source} ${v.target} -m ansible.builtin.debug -a var=${v.key} --ask-vault-pass   # shows the value\n` +
        names.map((n) => `lab secrets set ${n}   # paste the value on stdin, then Ctrl-D\n`).join("") +
        `in the role or playbook: ${names.map((n) => `lab.secret("${n}")`).join(", ")} (a Secret: redacted everywhere, files holding it are 0600)`,
    });
  }
}

/** What lab resolves for the converted data vs what Ansible resolves: differences are pinned on the host. */
async function pinDifferences(
  inv: AnsibleInventory,
  files: VarsFiles,
  data: LabInventoryData,
  hostNames: ReadonlyMap<string, string>,
  opts: ConvertOptions,
  report: ReportItem[],
): Promise<void> {
  const pins = new Map<string, { where?: Origin; message: string; hosts: string[] }>();
  for (let round = 0; round < 2; round++) {
    const lab = await loadWithLab(data, opts.root);
    let differs = false;
    for (const [aName, name] of hostNames) {
      const want = ansibleHostVars(inv, files, aName);
      const got = lab.get(name)!;
      const host = data.hosts![name]!;
      for (const [k, v] of Object.entries(want.vars)) {
        if (isAnsibleVar(k) || hasVault(v) || same(got.vars[k], v)) continue;
        differs = true;
        host.vars = { ...host.vars, [k]: v };
        const p = pins.get(`var:${k}:${at(want.origins[k])}`) ?? {
          ...(want.origins[k] ? { where: want.origins[k] } : {}),
          message: `${k}=${JSON.stringify(v)} is what Ansible resolves (its order: every group's inline vars, then every group's group_vars files; groups by depth, ansible_group_priority, name), not lab's group-by-group merge`,
          hosts: [],
        };
        pins.set(`var:${k}:${at(want.origins[k])}`, p);
        p.hosts.push(name);
      }
      const { conn } = mapConnection(want.vars, want.origins);
      // A jump host does not jump through itself (group-wide ProxyJump reaches it too).
      const jump = conn.bastion !== undefined && conn.bastion !== aName ? hostNames.get(conn.bastion) : undefined;
      const expected = {
        ...(jump ? { bastion: jump } : {}),
        address: conn.address ?? aName,
        port: conn.port ?? 22,
        become: conn.become ?? false,
        type: conn.type ?? "ssh",
        connect_timeout: conn.connect_timeout ?? 10,
        ...(conn.user ? { user: conn.user } : {}),
        ...(conn.key_file ? { key_file: conn.key_file } : {}),
      };
      const actual = {
        address: got.connection.address,
        port: got.connection.port,
        become: got.connection.become,
        type: got.connection.type,
        connect_timeout: got.connection.connectTimeoutMs / 1000,
        user: got.connection.user,
        key_file: got.connection.keyFile,
        bastion: got.connection.bastion?.name,
      };
      for (const [field, v] of Object.entries(expected) as [keyof LabConnection, unknown][]) {
        const a = actual[field];
        if (field === "key_file" ? a === expandPath(String(v), opts.root) : a === v) continue;
        differs = true;
        Object.assign(host, { [field]: v });
        const key = `conn:${field}`;
        const p = pins.get(key) ?? {
          message: `connection ${field}: set on the host to what Ansible resolves`,
          hosts: [],
        };
        pins.set(key, p);
        p.hosts.push(name);
      }
    }
    if (!differs) {
      for (const p of pins.values())
        report.push({
          kind: "precedence",
          ...(p.where ? { where: p.where } : {}),
          message: `${p.message}: pinned on ${p.hosts.join(", ")}`,
        });
      return;
    }
  }
  throw new LabError(
    "the converted inventory still resolves differently from Ansible after pinning (a bug in lab import)",
    1,
  );
}

async function loadWithLab(data: LabInventoryData, root: string): Promise<Map<string, HostInfo>> {
  const dir = await mkdtemp(join(tmpdir(), "lab-import-"));
  try {
    await writeFile(join(dir, "hosts.yaml"), render(data, "check"));
    const lab = await loadInventory({ path: join(dir, "hosts.yaml"), root });
    return new Map(lab.hosts);
  } catch (e) {
    if (e instanceof LabError)
      throw new LabError(
        `the converted inventory does not load in lab (a bug in lab import): ${e.message}`,
        1,
        {},
        undefined,
        { cause: e },
      );
    throw e;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Where the vaulted values are inside v ("db.users.0.password"). */
function vaultPaths(v: unknown, path: string): string[] {
  if (v instanceof Vaulted) return [path];
  if (typeof v !== "object" || v === null) return [];
  return Object.entries(v).flatMap(([k, x]) => vaultPaths(x, `${path}.${k}`));
}

const expandPath = (p: string, root: string) => resolve(root, p.replace(/^~(?=\/|$)/, homedir()));
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const at = (o: Origin | undefined) => (o ? `${o.file}:${o.line ?? 0}` : "");

export function render(data: LabInventoryData, source: string): string {
  const doc = new Document(data, { aliasDuplicateObjects: false });
  return `# yaml-language-server: $schema=./schema.json\n# Converted from the Ansible inventory ${source} by \`lab import ansible\`.\n${doc.toString({ lineWidth: 0 })}`;
}
