// Load an inventory (a file or a folder of *.yaml), validate every file against
// the model, merge, and resolve groups, vars and connections into HostInfo records.
import { readdir, readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve as resolvePath } from "node:path";
import { badInput } from "../errors.ts";
import type { ConnectionInfo, HostInfo } from "../engine/types.ts";
import { readYaml, type YamlSource } from "./yaml-source.ts";
import { validateInventoryFile, type InventorySource } from "./validate.ts";
import { checkLabRefs } from "./lab-refs.ts";
import { NO_SSH_CONFIG, readSshConfig, type JumpSpec, type SshClientConfig } from "./ssh-config.ts";
import {
  sectionNames,
  type Connection,
  type Group,
  type Host,
  type InventoryFile,
  type LabModel,
  type SectionName,
} from "./model.ts";

type Vars = Record<string, unknown>;
type Path = (string | number)[];
export interface Position {
  file: string;
  line: number;
  col: number;
}

/** Where a named thing was defined, for error messages. */
export interface Origin {
  src: YamlSource;
  path: Path;
}

/** One place a var is set: top-level vars, a group's, a host's, or --extra-vars. */
export interface VarSite {
  scope: "all" | "group" | "host" | "extra";
  owner?: string;
  key: string;
  value: unknown;
  where?: Position;
}

export interface Inventory {
  readonly files: string[];
  readonly hosts: ReadonlyMap<string, HostInfo>;
  /** Group name -> member hosts (through children too). "all" has every host. */
  readonly groups: ReadonlyMap<string, ReadonlySet<string>>;
  /** Each defined group as written: its own hosts and child groups (`lab inventory --list/--graph`). */
  readonly groupDefs: ReadonlyMap<string, { readonly hosts: readonly string[]; readonly children: readonly string[] }>;
  /** The lab sections (proxmox, vlans, templates, vms, ...), typed, merged across files and cross-checked. */
  readonly lab: LabModel;
  /** file:line:col of a key path such as ["vms", "web1", "vlan"]. */
  where(path: Path): Position | undefined;
  /** Every place a var is set (for checking them against declared host vars). */
  varSites(): VarSite[];
  /** Where host `host`'s var `key` comes from (the site that wins by precedence). */
  varSite(host: string, key: string): VarSite | undefined;
  /** A VM's SSH public keys: inline keys as given, `.pub` files read when the inventory was loaded. */
  vmKeys(vm: string): string[];
}

export interface LoadOptions {
  /** File or folder (default "inventory"). */
  path: string;
  /** Base for relative key_file / known_hosts / .pub paths. */
  root: string;
  extraVars?: Vars;
  /** ~/.ssh/config or lab.config.yaml's ssh_config, read by loadInventory (none when absent). */
  sshConfig?: SshClientConfig;
  /** `lab check`: a `.pub` file that does not exist yet (made by the demo) is a stand-in key, not an error. */
  missingKeyFiles?: "error" | "stand-in";
}

export async function loadInventory(opts: LoadOptions): Promise<Inventory> {
  const files = await inventoryFiles(opts.path);
  const sources: InventorySource[] = [];
  for (const file of files) sources.push(validateInventoryFile(await readYaml(file)));
  const sshConfig = opts.sshConfig ?? (await readSshConfig(process.env.LAB_SSH_CONFIG || "~/.ssh/config"));
  const inv = resolveInventory(sources, { ...opts, sshConfig });
  return withKeyFiles(inv, await readKeyFiles(inv, opts));
}

async function inventoryFiles(path: string): Promise<string[]> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw badInput(
      `inventory not found: ${path}`,
      { file: path },
      "pass -i/--inventory with a YAML file or a folder of *.yaml files",
    );
  }
  if (!st.isDirectory()) return [path];
  const names = (await readdir(path)).filter((n) => /\.ya?ml$/.test(n)).sort();
  if (names.length === 0)
    throw badInput(`no *.yaml files in ${path}`, { file: path }, "add an inventory file such as inventory/hosts.yaml");
  return names.map((n) => join(path, n));
}

/** Everything the files define, merged; a name defined twice is an error with both places. */
interface Collected {
  origins: Map<string, Origin>;
  hostDefs: Map<string, Host>;
  groupDefs: Map<string, Group>;
  lab: { -readonly [K in SectionName]: NonNullable<InventoryFile[K]> };
  allVars: Vars;
  allConn: Connection;
  allVarSrc: Map<string, YamlSource>;
}

export function resolveInventory(sources: InventorySource[], opts: LoadOptions): Inventory {
  const c = collect(sources);
  addProxmoxHosts(c);
  const fail = failAt(c, sources);
  const { members, groupOrder } = groupMembership(c, fail);
  checkBastions(c, sources);
  const hosts = resolveHosts(c, members, groupOrder, opts, fail);
  const where = (path: Path) => {
    const o = c.origins.get(`${String(path[0])}.${String(path[1])}`);
    return o ? { file: o.src.file, ...o.src.position(path) } : undefined;
  };
  const lab: LabModel = c.lab;
  checkLabRefs(lab, new Map([...c.hostDefs].filter(([, d]) => d.vm).map(([h, d]) => [h, d.vm!])), where);
  const sites = varSites(sources, opts.extraVars);
  return {
    files: sources.map((s) => s.src.file),
    hosts,
    groups: members,
    groupDefs: new Map([...c.groupDefs].map(([g, d]) => [g, { hosts: d.hosts ?? [], children: d.children ?? [] }])),
    lab,
    where,
    varSites: () => sites,
    varSite: (host, key) => {
      const h = hosts.get(host);
      if (!h) return undefined;
      const ranked = sites.filter(
        (s) =>
          s.key === key &&
          (s.scope === "all" ||
            s.scope === "extra" ||
            (s.scope === "host" && s.owner === host) ||
            (s.scope === "group" && h.groups.includes(s.owner!))),
      );
      const rank = (s: VarSite) =>
        s.scope === "extra"
          ? 1e6
          : s.scope === "host"
            ? 1e5
            : s.scope === "group"
              ? groupOrder.indexOf(s.owner!) + 1
              : 0;
      return ranked.sort((a, b) => rank(b) - rank(a))[0];
    },
    vmKeys: (vm) => [...(lab.vms[vm]?.ssh_keys ?? [])].map((k) => k.trim()),
  };
}

function collect(sources: InventorySource[]): Collected {
  const c: Collected = {
    origins: new Map(),
    hostDefs: new Map(),
    groupDefs: new Map(),
    lab: { proxmox: {}, pbs: {}, vlans: {}, templates: {}, vms: {} },
    allVars: {},
    allConn: {},
    allVarSrc: new Map(),
  };
  const define = (section: string, name: string, src: YamlSource) => {
    const key = `${section}.${name}`;
    const prev = c.origins.get(key);
    if (prev) {
      const at = { file: src.file, ...src.position([section, name]) };
      if (section !== "hosts" && section !== "groups")
        throw badInput(`${section}.${name} is defined twice (first in ${prev.src.file})`, at, "keep one definition");
      const q = prev.src.position(prev.path);
      const kind = section.slice(0, -1);
      throw badInput(
        `${kind} "${name}" is defined twice (first at ${prev.src.file}:${q.line}:${q.col})`,
        at,
        `keep one definition of ${kind} "${name}"`,
      );
    }
    c.origins.set(key, { src, path: [section, name] });
  };
  for (const { src, data } of sources) {
    c.allVars = { ...c.allVars, ...(data.vars ?? {}) };
    for (const k of Object.keys(data.vars ?? {})) c.allVarSrc.set(k, src);
    c.allConn = { ...c.allConn, ...(data.connection ?? {}) };
    for (const [name, def] of Object.entries(data.hosts ?? {})) {
      define("hosts", name, src);
      c.hostDefs.set(name, def ?? {});
    }
    for (const [name, def] of Object.entries(data.groups ?? {})) {
      define("groups", name, src);
      c.groupDefs.set(name, def ?? {});
    }
    for (const section of sectionNames) merge(c.lab, data, section, (k) => define(section, k, src));
  }
  return c;
}

/** Entries of one section of a file into the whole inventory's (each name once). */
function merge<K extends SectionName>(
  lab: Collected["lab"],
  data: InventoryFile,
  section: K,
  define: (name: string) => void,
): void {
  const target: Record<string, unknown> = lab[section];
  for (const [k, v] of Object.entries(data[section] ?? {})) {
    define(k);
    target[k] = v;
  }
}

/** Every Proxmox endpoint is a host (reached through the API) in group "proxmox". */
function addProxmoxHosts(c: Collected): void {
  const endpoints = Object.entries(c.lab.proxmox);
  for (const [name, ep] of endpoints) {
    if (c.origins.has(`hosts.${name}`)) {
      const o = c.origins.get(`proxmox.${name}`)!;
      throw badInput(
        `"${name}" is both a Proxmox endpoint and a host`,
        { file: o.src.file, ...o.src.position(["proxmox", name]) },
        "rename one of them",
      );
    }
    const url = new URL(ep.url);
    c.hostDefs.set(name, { type: "proxmox", address: url.hostname, port: Number(url.port || 8006) });
    c.origins.set(`hosts.${name}`, c.origins.get(`proxmox.${name}`)!);
  }
  if (endpoints.length && !c.groupDefs.has("proxmox")) c.groupDefs.set("proxmox", { hosts: endpoints.map(([n]) => n) });
}

type Fail = (path: Path, message: string, hint: string) => never;

function failAt(c: Collected, sources: InventorySource[]): Fail {
  return (path, message, hint) => {
    const o = c.origins.get(`${String(path[0])}.${String(path[1])}`);
    const src = o?.src ?? sources[0]?.src;
    throw badInput(message, src ? { file: src.file, ...src.position(path) } : {}, hint);
  };
}

/** Group membership with cycle detection; the order of groups for vars (parents before children, then by name). */
function groupMembership(c: Collected, fail: Fail): { members: Map<string, Set<string>>; groupOrder: string[] } {
  const depth = new Map<string, number>();
  const members = new Map<string, Set<string>>();
  const visit = (group: string, stack: string[]): Set<string> => {
    if (stack.includes(group))
      fail(
        ["groups", stack[0] ?? group],
        `group cycle: ${[...stack, group].join(" -> ")}`,
        "remove one of the children links",
      );
    const done = members.get(group);
    if (done) return done;
    const def = c.groupDefs.get(group) ?? {};
    const set = new Set<string>();
    for (const [i, h] of (def.hosts ?? []).entries()) {
      if (!c.hostDefs.has(h))
        fail(
          ["groups", group, "hosts", i],
          `group "${group}" lists host "${h}", which is not defined under hosts:`,
          `define host "${h}" or fix the name`,
        );
      set.add(h);
    }
    for (const [i, child] of (def.children ?? []).entries()) {
      if (!c.groupDefs.has(child))
        fail(
          ["groups", group, "children", i],
          `group "${group}" lists child group "${child}", which is not defined`,
          `define group "${child}" or fix the name`,
        );
      depth.set(child, Math.max(depth.get(child) ?? 0, (depth.get(group) ?? 0) + 1));
      for (const h of visit(child, [...stack, group])) set.add(h);
    }
    members.set(group, set);
    return set;
  };
  for (const g of c.groupDefs.keys()) {
    if (g === "all")
      fail(["groups", g], `"all" is a reserved group name`, "use top-level vars:/connection: for every host");
    if (c.hostDefs.has(g)) fail(["groups", g], `"${g}" is both a host and a group`, "rename one of them");
    if (!depth.has(g)) depth.set(g, 1);
  }
  for (const g of c.groupDefs.keys()) visit(g, []);
  // Depths may have grown after a group was first visited: recompute until stable (bounded by group count).
  for (let i = 0; i < c.groupDefs.size; i++) {
    for (const [g, def] of c.groupDefs)
      for (const ch of def.children ?? []) depth.set(ch, Math.max(depth.get(ch) ?? 1, (depth.get(g) ?? 1) + 1));
  }
  members.set("all", new Set(c.hostDefs.keys()));
  const groupOrder = [...c.groupDefs.keys()].sort(
    (a, b) => (depth.get(a) ?? 0) - (depth.get(b) ?? 0) || a.localeCompare(b),
  );
  return { members, groupOrder };
}

/** Every bastion must name a host: checked where it is written (file, group or host connection). */
function checkBastions(c: Collected, sources: InventorySource[]): void {
  for (const { src, data } of sources) {
    const refs: [Path, string | undefined][] = [
      [["connection", "bastion"], data.connection?.bastion],
      ...Object.entries(data.groups ?? {}).map(([g, d]): [Path, string | undefined] => [
        ["groups", g, "connection", "bastion"],
        d?.connection?.bastion,
      ]),
      ...Object.entries(data.hosts ?? {}).map(([h, d]): [Path, string | undefined] => [
        ["hosts", h, "bastion"],
        d?.bastion,
      ]),
    ];
    for (const [path, b] of refs) {
      if (b !== undefined && !c.hostDefs.has(b))
        throw badInput(
          `bastion "${b}" is not a host in the inventory`,
          { file: src.file, ...src.position(path) },
          "define the bastion under hosts:",
        );
    }
  }
}

function resolveHosts(
  c: Collected,
  members: Map<string, Set<string>>,
  groupOrder: string[],
  opts: LoadOptions,
  fail: Fail,
): Map<string, HostInfo> {
  const expand = (p: string) => resolvePath(opts.root, p.replace(/^~(?=\/|$)/, homedir()));
  const sshConfig = opts.sshConfig ?? NO_SSH_CONFIG;
  const connectionOf = (name: string, seen: string[]): ConnectionInfo & { name: string } => {
    const def = c.hostDefs.get(name);
    if (!def)
      return fail(
        ["hosts", seen[seen.length - 1] ?? name, "bastion"],
        `bastion "${name}" is not a host in the inventory`,
        "define the bastion under hosts:",
      );
    let conn: Connection & { address?: string } = { ...c.allConn };
    for (const g of groupOrder)
      if (members.get(g)?.has(name)) conn = { ...conn, ...(c.groupDefs.get(g)?.connection ?? {}) };
    const { vars: _vars, ...hostConn } = def;
    conn = { ...conn, ...hostConn };
    if (conn.bastion && seen.includes(conn.bastion))
      fail(
        ["hosts", name, "bastion"],
        `bastion loop: ${[...seen, name, conn.bastion].join(" -> ")}`,
        "a bastion cannot reach itself",
      );
    // Precedence: inventory > ~/.ssh/config (ssh-config.ts; looked up by the inventory name) > defaults.
    const ssh = (conn.type ?? "ssh") === "ssh" && !conn.vm ? sshConfig.lookup(name) : {};
    // $LAB_KNOWN_HOSTS (or known_hosts of lab.config.yaml) stands in where the inventory names none.
    const knownHosts = expand(conn.known_hosts ?? (process.env.LAB_KNOWN_HOSTS || "~/.ssh/known_hosts"));
    const connectTimeoutMs = (conn.connect_timeout ?? 10) * 1000;
    const jump = conn.bastion
      ? conn.bastion !== name
        ? connectionOf(conn.bastion, [...seen, name])
        : undefined
      : ssh.proxyJump?.length
        ? jumpOf(ssh.proxyJump, { knownHosts, connectTimeoutMs }, [...seen, name])
        : undefined;
    return {
      name,
      type: conn.type ?? "ssh",
      address: conn.address ?? ssh.hostName ?? name,
      port: conn.port ?? ssh.port ?? 22,
      user: conn.user ?? ssh.user ?? "root",
      ...(conn.key_file ? { keyFile: expand(conn.key_file) } : ssh.identityFile ? { keyFile: ssh.identityFile } : {}),
      knownHosts,
      become: conn.become ?? false,
      ...(jump ? { bastion: jump } : {}),
      connectTimeoutMs,
      ...(conn.vm ? { vm: conn.vm } : {}),
    };
  };
  /** The last hop of a ProxyJump list, through the hops before it; an inventory host is used as such. */
  const jumpOf = (
    hops: JumpSpec[],
    via: { knownHosts: string; connectTimeoutMs: number },
    seen: string[],
  ): ConnectionInfo & { name: string } => {
    const hop = hops[hops.length - 1] as JumpSpec;
    const before = hops.slice(0, -1);
    if (seen.includes(hop.host))
      fail(
        ["hosts", seen[0] ?? hop.host],
        `ProxyJump loop: ${[...seen, hop.host].join(" -> ")} (ssh config${sshConfig.file ? ` ${sshConfig.file}` : ""})`,
        "a jump host cannot reach itself",
      );
    if (c.hostDefs.has(hop.host) && !hop.user && !hop.port && !before.length) return connectionOf(hop.host, seen);
    const cfg = sshConfig.lookup(hop.host);
    // Only the first hop has ProxyJump of its own (as in OpenSSH); strict host keys as for the host behind it.
    const prev = before.length ? before : (cfg.proxyJump ?? []);
    return {
      name: hop.host,
      type: "ssh",
      address: cfg.hostName ?? hop.host,
      port: hop.port ?? cfg.port ?? 22,
      user: hop.user ?? cfg.user ?? "root",
      ...(cfg.identityFile ? { keyFile: cfg.identityFile } : {}),
      knownHosts: via.knownHosts,
      become: false,
      ...(prev.length ? { bastion: jumpOf(prev, via, [...seen, hop.host]) } : {}),
      connectTimeoutMs: via.connectTimeoutMs,
    };
  };
  const hosts = new Map<string, HostInfo>();
  for (const [name, def] of c.hostDefs) {
    const groups = ["all", ...groupOrder.filter((g) => members.get(g)?.has(name))];
    let vars: Vars = { ...c.allVars };
    for (const g of groupOrder) if (members.get(g)?.has(name)) vars = { ...vars, ...(c.groupDefs.get(g)?.vars ?? {}) };
    vars = { ...vars, ...(def.vars ?? {}), ...(opts.extraVars ?? {}) };
    const { name: _n, ...connection } = connectionOf(name, []);
    hosts.set(name, { name, groups, vars, connection });
  }
  return hosts;
}

function varSites(sources: InventorySource[], extraVars: Vars | undefined): VarSite[] {
  const sites: VarSite[] = [];
  const at = (src: YamlSource, path: Path): Position => ({ file: src.file, ...src.position(path) });
  for (const { src, data } of sources) {
    for (const [key, value] of Object.entries(data.vars ?? {}))
      sites.push({ scope: "all", key, value, where: at(src, ["vars", key]) });
    for (const [g, def] of Object.entries(data.groups ?? {}))
      for (const [key, value] of Object.entries(def?.vars ?? {}))
        sites.push({ scope: "group", owner: g, key, value, where: at(src, ["groups", g, "vars", key]) });
    for (const [h, def] of Object.entries(data.hosts ?? {}))
      for (const [key, value] of Object.entries(def?.vars ?? {}))
        sites.push({ scope: "host", owner: h, key, value, where: at(src, ["hosts", h, "vars", key]) });
  }
  for (const [key, value] of Object.entries(extraVars ?? {})) sites.push({ scope: "extra", key, value });
  return sites;
}

/** Read the `.pub` files named in vms.*.ssh_keys (relative to the project root), with the position of a missing one. */
async function readKeyFiles(inv: Inventory, opts: LoadOptions): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const [vm, def] of Object.entries(inv.lab.vms)) {
    const keys: string[] = [];
    for (const [i, k] of (def.ssh_keys ?? []).entries()) {
      if (!k.endsWith(".pub")) {
        keys.push(k.trim());
        continue;
      }
      const file = resolvePath(opts.root, k.replace(/^~(?=\/|$)/, homedir()));
      try {
        keys.push((await readFile(file, "utf8")).trim());
      } catch (e) {
        if (opts.missingKeyFiles === "stand-in") {
          keys.push(`ssh-ed25519 lab-check-stand-in ${k}`);
          continue;
        }
        throw badInput(
          `vms.${vm}.ssh_keys: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
          inv.where(["vms", vm, "ssh_keys", i]) ?? {},
          "create the key (ssh-keygen), or give the public key line itself",
        );
      }
    }
    out.set(vm, keys);
  }
  return out;
}

const withKeyFiles = (inv: Inventory, keys: Map<string, string[]>): Inventory => ({
  ...inv,
  vmKeys: (vm) => keys.get(vm) ?? inv.vmKeys(vm),
});
