// Host patterns, as in Ansible: "web:db", "web,db", "all:!db", "web:&prod", globs.
import { badInput } from "../errors.ts";
import type { Inventory } from "./inventory.ts";

export function matchHosts(inv: Inventory, pattern: string, source = "--limit"): string[] {
  const all = [...inv.hosts.keys()];
  const terms = pattern.split(/[,:]/).map((t) => t.trim()).filter(Boolean);
  if (terms.length === 0) throw badInput(`empty host pattern in ${source}`, {}, "give host or group names, e.g. web:db");
  let selected = new Set<string>();
  let first = true;
  for (const term of terms) {
    const op = term[0] === "!" || term[0] === "&" ? term[0] : "";
    const hosts = resolveTerm(inv, op ? term.slice(1) : term, all, source);
    if (op === "!") selected = new Set([...selected].filter((h) => !hosts.has(h)));
    else if (op === "&") selected = new Set([...selected].filter((h) => hosts.has(h)));
    else {
      for (const h of hosts) selected.add(h);
    }
    if (first && op) selected = op === "!" ? new Set(all.filter((h) => !hosts.has(h))) : selected;
    first = false;
  }
  return all.filter((h) => selected.has(h));
}

function resolveTerm(inv: Inventory, term: string, all: string[], source: string): Set<string> {
  if (term === "all" || term === "*") return new Set(all);
  const group = inv.groups.get(term);
  if (group) return new Set(group);
  if (inv.hosts.has(term)) return new Set([term]);
  if (term.includes("*") || term.includes("?")) {
    const re = new RegExp(`^${term.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*").replaceAll("?", ".")}$`);
    const out = new Set<string>();
    for (const h of all) if (re.test(h)) out.add(h);
    for (const [g, members] of inv.groups) if (re.test(g)) for (const h of members) out.add(h);
    return out;
  }
  throw badInput(`${source}: "${term}" is neither a host nor a group in the inventory`, {}, `known groups: ${[...inv.groups.keys()].join(", ")}`);
}
