// `lab inventory --list | --graph | --host NAME`: the resolved inventory, in the shapes
// of `ansible-inventory` so tools that read its JSON read ours. Nothing is contacted.
import { badInput, ExitCode } from "../errors.ts";
import type { Inventory } from "../inventory/inventory.ts";
import { knownNames } from "../inventory/patterns.ts";
import type { HostInfo } from "../engine/types.ts";
import { redact } from "../secrets/secret.ts";

export type InventoryView = { list: true } | { graph: true } | { host: string };

export function inventoryCommand(inv: Inventory, view: InventoryView, out: NodeJS.WritableStream): ExitCode {
  if ("list" in view) out.write(`${redact(JSON.stringify(ansibleList(inv), null, 4))}\n`);
  else if ("graph" in view) out.write(`${ansibleGraph(inv).join("\n")}\n`);
  else {
    const h = inv.hosts.get(view.host);
    if (!h) throw badInput(`lab inventory --host: unknown host "${view.host}"`, {}, knownNames(inv));
    out.write(`${redact(JSON.stringify(hostVars(h), null, 4))}\n`);
  }
  return ExitCode.ok;
}

/** A host's vars and how it is reached, with Ansible's names for the connection. */
export function hostVars(h: HostInfo): Record<string, unknown> {
  const c = h.connection;
  const conn: Record<string, unknown> =
    c.type === "local"
      ? { ansible_connection: "local" }
      : {
          ansible_host: c.address,
          ansible_port: c.port,
          ansible_user: c.user,
          ...(c.keyFile ? { ansible_ssh_private_key_file: c.keyFile } : {}),
        };
  return { ...conn, ...(c.become ? { ansible_become: true } : {}), ...h.vars };
}

type Group = { hosts?: string[]; children?: string[] };

/** `ansible-inventory --list`: `_meta.hostvars`, `all.children` (ungrouped first), each non-empty group's own hosts and children. */
export function ansibleList(inv: Inventory): Record<string, unknown> {
  const out: Record<string, Group | { hostvars: Record<string, unknown> }> = {};
  out._meta = { hostvars: Object.fromEntries([...inv.hosts.values()].map((h) => [h.name, hostVars(h)])) };
  out.all = { children: ["ungrouped", ...topGroups(inv)] };
  for (const [name, d] of inv.groupDefs) {
    const g: Group = {};
    if (d.hosts.length) g.hosts = [...d.hosts];
    if (d.children.length) g.children = [...d.children];
    if (g.hosts || g.children) out[name] = g;
  }
  const ungrouped = ungroupedHosts(inv);
  if (ungrouped.length) out.ungrouped = { hosts: ungrouped };
  return out;
}

/** `ansible-inventory --graph`: groups as `@name:`, children before hosts, in definition order. */
export function ansibleGraph(inv: Inventory): string[] {
  const line = (name: string, depth: number) => `${"  |".repeat(depth)}${depth ? "--" : ""}${name}`;
  const group = (name: string, depth: number): string[] => {
    const d = inv.groupDefs.get(name) ?? { hosts: [], children: [] };
    return [
      line(`@${name}:`, depth),
      ...d.children.flatMap((c) => group(c, depth + 1)),
      ...d.hosts.map((h) => line(h, depth + 1)),
    ];
  };
  return [
    line("@all:", 0),
    line("@ungrouped:", 1),
    ...ungroupedHosts(inv).map((h) => line(h, 2)),
    ...topGroups(inv).flatMap((g) => group(g, 1)),
  ];
}

const topGroups = (inv: Inventory): string[] => {
  const children = new Set([...inv.groupDefs.values()].flatMap((d) => d.children));
  return [...inv.groupDefs.keys()].filter((g) => !children.has(g));
};

const ungroupedHosts = (inv: Inventory): string[] => {
  const grouped = new Set([...inv.groupDefs.values()].flatMap((d) => d.hosts));
  return [...inv.hosts.keys()].filter((h) => !grouped.has(h));
};
