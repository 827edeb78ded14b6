// Host patterns, as in Ansible: "web:db", "web,db", "all:!db", "web:&prod", globs.
import { badInput } from "../errors.ts";
import type { Inventory } from "./inventory.ts";

export function matchHosts(inv: Inventory, pattern: string, source = "--limit"): string[] {
  const all = [...inv.hosts.keys()];
  const terms = pattern
    .split(/[,:]/)
    .map((t) => t.trim())
    .filter(Boolean);
  if (terms.length === 0)
    throw badInput(`empty host pattern in ${source}`, {}, "give host or group names, e.g. web:db");
  // As Ansible: unions first, then intersections (&), then exclusions (!), whatever the
  // written order; with no plain term at all, start from every host.
  const plain = terms.filter((t) => t[0] !== "&" && t[0] !== "!");
  const and = terms.filter((t) => t[0] === "&").map((t) => resolveTerm(inv, t.slice(1), all, source));
  const not = terms.filter((t) => t[0] === "!").map((t) => resolveTerm(inv, t.slice(1), all, source));
  const selected = new Set(plain.length ? plain.flatMap((t) => [...resolveTerm(inv, t, all, source)]) : all);
  for (const hosts of and) for (const h of [...selected]) if (!hosts.has(h)) selected.delete(h);
  for (const hosts of not) for (const h of hosts) selected.delete(h);
  return all.filter((h) => selected.has(h));
}

function resolveTerm(inv: Inventory, term: string, all: string[], source: string): Set<string> {
  if (term === "all" || term === "*") return new Set(all);
  const group = inv.groups.get(term);
  if (group) return new Set(group);
  if (inv.hosts.has(term)) return new Set([term]);
  if (term.includes("*") || term.includes("?")) {
    const re = new RegExp(
      `^${term
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replaceAll("*", ".*")
        .replaceAll("?", ".")}$`,
    );
    const out = new Set<string>();
    for (const h of all) if (re.test(h)) out.add(h);
    for (const [g, members] of inv.groups) if (re.test(g)) for (const h of members) out.add(h);
    return out;
  }
  throw badInput(`${source}: "${term}" is neither a host nor a group in the inventory`, {}, knownNames(inv));
}

/** What a pattern can name, for hints: every group and every host. */
export const knownNames = (inv: Inventory): string =>
  `known groups: ${[...inv.groups.keys()].join(", ") || "(none)"}; known hosts: ${[...inv.hosts.keys()].join(", ") || "(none)"}`;
