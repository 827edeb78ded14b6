// Load an inventory (a file or a folder of *.yaml), validate every file, merge,
// and resolve groups, vars and connections into HostInfo records.
import { readdir, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve as resolvePath } from "node:path";
import { badInput } from "../errors.ts";
import type { ConnectionInfo, HostInfo } from "../engine/types.ts";
import { readYaml, type YamlSource } from "./yaml-source.ts";
import { validateInventoryFile } from "./validate.ts";
import { checkLabRefs } from "./lab-refs.ts";

type Vars = Record<string, unknown>;
type ConnFields = Partial<{
  type: ConnectionInfo["type"];
  address: string;
  port: number;
  user: string;
  key_file: string;
  known_hosts: string;
  become: boolean;
  bastion: string;
  connect_timeout: number;
  vm: string;
}>;
interface GroupDef { hosts?: string[]; children?: string[]; vars?: Vars; connection?: ConnFields }
interface HostDef extends ConnFields { vars?: Vars }
interface FileData { connection?: ConnFields; vars?: Vars; groups?: Record<string, GroupDef>; hosts?: Record<string, HostDef>; [section: string]: unknown }

/** Where a named thing was defined, for error messages. */
export interface Origin { src: YamlSource; path: (string | number)[] }

export interface Inventory {
  readonly files: string[];
  readonly hosts: ReadonlyMap<string, HostInfo>;
  /** Group name -> member hosts (through children too). "all" has every host. */
  readonly groups: ReadonlyMap<string, ReadonlySet<string>>;
  /** Extra top-level sections (proxmox, vlans, templates, vms) merged across files. */
  readonly sections: Readonly<Record<string, Record<string, unknown>>>;
  /** file:line:col of a key path such as ["vms", "web1", "vlan"]. */
  where(path: (string | number)[]): { file: string; line: number; col: number } | undefined;
}

export interface LoadOptions {
  /** File or folder (default "inventory"). */
  path: string;
  /** Base for relative key_file / known_hosts paths. */
  root: string;
  extraVars?: Vars;
}

export async function loadInventory(opts: LoadOptions): Promise<Inventory> {
  const files = await inventoryFiles(opts.path);
  const sources: YamlSource[] = [];
  for (const file of files) {
    const src = await readYaml(file);
    validateInventoryFile(src);
    sources.push(src);
  }
  return resolveInventory(sources, opts);
}

async function inventoryFiles(path: string): Promise<string[]> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw badInput(`inventory not found: ${path}`, { file: path }, "pass -i/--inventory with a YAML file or a folder of *.yaml files");
  }
  if (!st.isDirectory()) return [path];
  const names = (await readdir(path)).filter((n) => /\.ya?ml$/.test(n)).sort();
  if (names.length === 0) throw badInput(`no *.yaml files in ${path}`, { file: path }, "add an inventory file such as inventory/hosts.yaml");
  return names.map((n) => join(path, n));
}

export function resolveInventory(sources: YamlSource[], opts: LoadOptions): Inventory {
  const origins = new Map<string, Origin>();
  const hostDefs = new Map<string, HostDef>();
  const groupDefs = new Map<string, GroupDef>();
  const sections: Record<string, Record<string, unknown>> = {};
  let allVars: Vars = {};
  let allConn: ConnFields = {};

  const define = <T>(map: Map<string, T>, kind: string, name: string, def: T, src: YamlSource) => {
    const key = `${kind}s.${name}`;
    const prev = origins.get(key);
    if (prev) {
      const p = src.position([`${kind}s`, name]);
      const q = prev.src.position(prev.path);
      throw badInput(`${kind} "${name}" is defined twice (first at ${prev.src.file}:${q.line}:${q.col})`, { file: src.file, ...p }, `keep one definition of ${kind} "${name}"`);
    }
    origins.set(key, { src, path: [`${kind}s`, name] });
    map.set(name, def);
  };

  for (const src of sources) {
    const data = src.data as FileData;
    allVars = { ...allVars, ...(data.vars ?? {}) };
    allConn = { ...allConn, ...(data.connection ?? {}) };
    for (const [name, def] of Object.entries(data.hosts ?? {})) define(hostDefs, "host", name, def ?? {}, src);
    for (const [name, def] of Object.entries(data.groups ?? {})) define(groupDefs, "group", name, def ?? {}, src);
    for (const [section, value] of Object.entries(data)) {
      if (["connection", "vars", "hosts", "groups"].includes(section) || !value || typeof value !== "object") continue;
      const target = (sections[section] ??= {});
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const key = `${section}.${k}`;
        const prev = origins.get(key);
        if (prev) {
          const p = src.position([section, k]);
          throw badInput(`${section}.${k} is defined twice (first in ${prev.src.file})`, { file: src.file, ...p }, "keep one definition");
        }
        origins.set(key, { src, path: [section, k] });
        target[k] = v;
      }
    }
  }

  // Every Proxmox endpoint is a host (reached through the API) in group "proxmox".
  for (const [name, ep] of Object.entries(sections.proxmox ?? {})) {
    const key = `hosts.${name}`;
    if (origins.has(key)) {
      const o = origins.get(`proxmox.${name}`)!;
      throw badInput(`"${name}" is both a Proxmox endpoint and a host`, { file: o.src.file, ...o.src.position(["proxmox", name]) }, "rename one of them");
    }
    const url = new URL(String((ep as { url: string }).url));
    hostDefs.set(name, { type: "proxmox", address: url.hostname, port: Number(url.port || 8006) });
    origins.set(key, origins.get(`proxmox.${name}`)!);
  }
  if (sections.proxmox && !groupDefs.has("proxmox")) groupDefs.set("proxmox", { hosts: Object.keys(sections.proxmox) });

  const fail = (path: (string | number)[], message: string, hint: string): never => {
    const o = origins.get(`${String(path[0])}.${String(path[1])}`);
    const src = o?.src ?? sources[0];
    throw badInput(message, src ? { file: src.file, ...src.position(path) } : {}, hint);
  };

  // Group membership with cycle detection; depth orders vars (parents before children).
  const depth = new Map<string, number>();
  const members = new Map<string, Set<string>>();
  const visit = (group: string, stack: string[]): Set<string> => {
    if (stack.includes(group)) fail(["groups", stack[0] ?? group], `group cycle: ${[...stack, group].join(" -> ")}`, "remove one of the children links");
    const done = members.get(group);
    if (done) return done;
    const def = groupDefs.get(group) ?? {};
    const set = new Set<string>();
    for (const [i, h] of (def.hosts ?? []).entries()) {
      if (!hostDefs.has(h)) fail(["groups", group, "hosts", i], `group "${group}" lists host "${h}", which is not defined under hosts:`, `define host "${h}" or fix the name`);
      set.add(h);
    }
    for (const [i, child] of (def.children ?? []).entries()) {
      if (!groupDefs.has(child)) fail(["groups", group, "children", i], `group "${group}" lists child group "${child}", which is not defined`, `define group "${child}" or fix the name`);
      depth.set(child, Math.max(depth.get(child) ?? 0, (depth.get(group) ?? 0) + 1));
      for (const h of visit(child, [...stack, group])) set.add(h);
    }
    members.set(group, set);
    return set;
  };
  for (const g of groupDefs.keys()) {
    if (g === "all") fail(["groups", g], `"all" is a reserved group name`, "use top-level vars:/connection: for every host");
    if (hostDefs.has(g)) fail(["groups", g], `"${g}" is both a host and a group`, "rename one of them");
    if (!depth.has(g)) depth.set(g, 1);
  }
  for (const g of groupDefs.keys()) visit(g, []);
  // Depths may have grown after a group was first visited: recompute until stable (bounded by group count).
  for (let i = 0; i < groupDefs.size; i++) {
    for (const [g, def] of groupDefs) for (const c of def.children ?? []) depth.set(c, Math.max(depth.get(c) ?? 1, (depth.get(g) ?? 1) + 1));
  }
  members.set("all", new Set(hostDefs.keys()));

  // Every bastion must name a host: checked where it is written (file, group or host connection).
  for (const src of sources) {
    const data = src.data as FileData;
    const refs: [(string | number)[], string | undefined][] = [
      [["connection", "bastion"], data.connection?.bastion],
      ...Object.entries(data.groups ?? {}).map(([g, d]): [(string | number)[], string | undefined] => [["groups", g, "connection", "bastion"], d?.connection?.bastion]),
      ...Object.entries(data.hosts ?? {}).map(([h, d]): [(string | number)[], string | undefined] => [["hosts", h, "bastion"], d?.bastion]),
    ];
    for (const [path, b] of refs) {
      if (b !== undefined && !hostDefs.has(b)) throw badInput(`bastion "${b}" is not a host in the inventory`, { file: src.file, ...src.position(path) }, "define the bastion under hosts:");
    }
  }

  const groupOrder = [...groupDefs.keys()].sort((a, b) => (depth.get(a) ?? 0) - (depth.get(b) ?? 0) || a.localeCompare(b));
  const expand = (p: string) => resolvePath(opts.root, p.replace(/^~(?=\/|$)/, homedir()));

  const connectionOf = (name: string, seen: string[]): ConnectionInfo & { name: string } => {
    const def = hostDefs.get(name);
    if (!def) return fail(["hosts", seen[seen.length - 1] ?? name, "bastion"], `bastion "${name}" is not a host in the inventory`, "define the bastion under hosts:");
    let c: ConnFields = { ...allConn };
    for (const g of groupOrder) if (members.get(g)?.has(name)) c = { ...c, ...(groupDefs.get(g)?.connection ?? {}) };
    const { vars: _vars, ...hostConn } = def;
    c = { ...c, ...hostConn };
    if (c.bastion && seen.includes(c.bastion)) fail(["hosts", name, "bastion"], `bastion loop: ${[...seen, name, c.bastion].join(" -> ")}`, "a bastion cannot reach itself");
    return {
      name,
      type: c.type ?? "ssh",
      address: c.address ?? name,
      port: c.port ?? 22,
      user: c.user ?? "root",
      ...(c.key_file ? { keyFile: expand(c.key_file) } : {}),
      knownHosts: expand(c.known_hosts ?? "~/.ssh/known_hosts"),
      become: c.become ?? false,
      ...(c.bastion && c.bastion !== name ? { bastion: connectionOf(c.bastion, [...seen, name]) } : {}),
      connectTimeoutMs: (c.connect_timeout ?? 10) * 1000,
      ...(c.vm ? { vm: c.vm } : {}),
    };
  };

  const hosts = new Map<string, HostInfo>();
  for (const [name, def] of hostDefs) {
    const groups = ["all", ...groupOrder.filter((g) => members.get(g)?.has(name))];
    let vars: Vars = { ...allVars };
    for (const g of groupOrder) if (members.get(g)?.has(name)) vars = { ...vars, ...(groupDefs.get(g)?.vars ?? {}) };
    vars = { ...vars, ...(def.vars ?? {}), ...(opts.extraVars ?? {}) };
    const { name: _n, ...connection } = connectionOf(name, []);
    hosts.set(name, { name, groups, vars, connection });
  }

  const where = (path: (string | number)[]) => {
    const o = origins.get(`${String(path[0])}.${String(path[1])}`);
    return o ? { file: o.src.file, ...o.src.position(path) } : undefined;
  };
  checkLabRefs(sections, new Map([...hostDefs].filter(([, d]) => d.vm).map(([h, d]) => [h, d.vm!])), where);

  return {
    files: sources.map((s) => s.file),
    hosts,
    groups: members,
    sections,
    where,
  };
}
