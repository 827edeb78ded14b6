// Firewall: cluster security groups, IP sets, aliases and options; per-VM rules
// and options. Enough for VLAN isolation (a group per VLAN, rules that refer
// to IP sets/aliases, VM NICs with firewall=1). New rules go to the top, as on PVE.
import { createHash } from "node:crypto";
import type { Call, Routes } from "../context.ts";
import { deleteList, int, need, settings, str } from "../context.ts";
import { fail } from "../errors.ts";
import type { Item, RuleSet } from "../state.ts";

type IpSet = { comment?: string; entries: Item[] };
import { getVm } from "../vm.ts";

const digest = (v: unknown): string => createHash("sha1").update(JSON.stringify(v)).digest("hex");
const NUMERIC = /^(enable|ipversion|ebtables|dhcp|ipfilter|macfilter|ndp|radv|nomatch)$/;

function typed(values: Record<string, string>): Item {
  const out: Item = {};
  for (const [k, v] of Object.entries(values)) out[k] = NUMERIC.test(k) ? Number(v) : v;
  return out;
}

function checkDigest(c: Call, current: unknown): void {
  const given = str(c, "digest");
  if (given && given !== digest(current))
    throw fail("detected modified configuration - file changed by other user? Try again.");
}

// ---- rule lists (security groups and VMs share them) -------------------------

type RulesOf = (c: Call) => Item[];

function ruleAt(c: Call, rules: Item[]): Item {
  const pos = int(c, "pos")!;
  const rule = rules[pos];
  if (!rule) throw fail(`no rule at position ${pos}`);
  return rule;
}

function checkGroupRef(c: Call, values: Item): void {
  if (values.type === "group" && !c.sim.state.firewall.groups[String(values.action)]) {
    throw fail(`security group '${String(values.action)}' does not exist`);
  }
}

function ruleRoutes(base: string, rulesOf: RulesOf, pathKeys: string[]): Routes {
  return {
    [`GET ${base}`]: (c) => rulesOf(c).map((r, pos) => ({ ...r, pos })),
    [`POST ${base}`]: (c) => {
      const rules = rulesOf(c);
      checkDigest(c, rules);
      const values = typed(settings(c, pathKeys, ["pos", "digest"]));
      checkGroupRef(c, values);
      rules.splice(Math.min(int(c, "pos") ?? 0, rules.length), 0, { enable: 0, ...values });
      return null;
    },
    [`GET ${base}/{pos}`]: (c) => ({ ...ruleAt(c, rulesOf(c)), pos: int(c, "pos")! }),
    [`PUT ${base}/{pos}`]: (c) => {
      const rules = rulesOf(c);
      checkDigest(c, rules);
      const rule = ruleAt(c, rules);
      for (const key of deleteList(c)) delete rule[key];
      Object.assign(rule, typed(settings(c, [...pathKeys, "pos"], ["moveto", "digest", "delete"])));
      checkGroupRef(c, rule);
      const moveto = int(c, "moveto");
      if (moveto !== undefined) {
        rules.splice(int(c, "pos")!, 1);
        rules.splice(Math.min(moveto, rules.length), 0, rule);
      }
      return null;
    },
    [`DELETE ${base}/{pos}`]: (c) => {
      const rules = rulesOf(c);
      checkDigest(c, rules);
      ruleAt(c, rules);
      rules.splice(int(c, "pos")!, 1);
      return null;
    },
  };
}

function optionRoutes(path: string, optionsOf: (c: Call) => Item, pathKeys: string[]): Routes {
  return {
    [`GET ${path}`]: (c) => optionsOf(c),
    [`PUT ${path}`]: (c) => {
      const options = optionsOf(c);
      checkDigest(c, options);
      for (const key of deleteList(c)) delete options[key];
      Object.assign(options, typed(settings(c, pathKeys, ["delete", "digest"])));
      return null;
    },
  };
}

// ---- named cluster objects -----------------------------------------------------

const fw = (c: Call): Call["sim"]["state"]["firewall"] => c.sim.state.firewall;

function group(c: Call): { rules: Item[]; comment?: string } {
  const found = fw(c).groups[need(c, "group")];
  if (!found) throw fail(`no such security group '${need(c, "group")}'`);
  return found;
}

function ipset(c: Call): { comment?: string; entries: Item[] } {
  const found = fw(c).ipsets[need(c, "name")];
  if (!found) throw fail(`no such IPSet '${need(c, "name")}'`);
  return found;
}

function ipsetEntry(c: Call): Item {
  const found = ipset(c).entries.find((e) => e.cidr === need(c, "cidr"));
  if (!found) throw fail(`no such IP/Network '${need(c, "cidr")}'`);
  return found;
}

function alias(c: Call): Item {
  const found = fw(c).aliases[need(c, "name")];
  if (!found) throw fail(`no such alias '${need(c, "name")}'`);
  return found;
}

/** POST of a named container (group, ipset): create, or rename when `rename` is given. */
function createNamed<T extends { comment?: string }>(
  c: Call,
  key: string,
  table: (c: Call) => Record<string, T>,
  what: string,
  make: () => T,
): null {
  const items = table(c);
  const name = need(c, key);
  const rename = str(c, "rename");
  if (rename) {
    if (!items[rename]) throw fail(`${what} '${rename}' does not exist`);
    if (items[name]) throw fail(`${what} '${name}' already exists`);
    items[name] = items[rename]!;
    delete items[rename];
  } else {
    if (items[name]) throw fail(`${what} '${name}' already exists`);
    items[name] = make();
  }
  const comment = str(c, "comment");
  if (comment !== undefined) items[name].comment = comment;
  return null;
}

const clusterRoutes: Routes = {
  "GET /cluster/firewall/groups": (c) =>
    Object.entries(fw(c).groups).map(([name, g]) => ({
      group: name,
      digest: digest(g),
      ...(g.comment ? { comment: g.comment } : {}),
    })),
  "POST /cluster/firewall/groups": (c) =>
    createNamed(
      c,
      "group",
      (x) => fw(x).groups,
      "security group",
      (): RuleSet => ({ rules: [] }),
    ),
  "DELETE /cluster/firewall/groups/{group}": (c) => {
    if (group(c).rules.length) throw fail(`Security group '${need(c, "group")}' is not empty`);
    delete fw(c).groups[need(c, "group")];
    return null;
  },
  ...ruleRoutes("/cluster/firewall/groups/{group}", (c) => group(c).rules, ["group"]),

  "GET /cluster/firewall/ipset": (c) =>
    Object.entries(fw(c).ipsets).map(([name, s]) => ({
      name,
      digest: digest(s),
      ...(s.comment ? { comment: s.comment } : {}),
    })),
  "POST /cluster/firewall/ipset": (c) =>
    createNamed(
      c,
      "name",
      (x) => fw(x).ipsets,
      "IPSet",
      (): IpSet => ({ entries: [] }),
    ),
  "GET /cluster/firewall/ipset/{name}": (c) => {
    const set = ipset(c);
    return set.entries.map((e) => ({ ...e, digest: digest(set) }));
  },
  "POST /cluster/firewall/ipset/{name}": (c) => {
    const set = ipset(c);
    const cidr = need(c, "cidr");
    if (set.entries.some((e) => e.cidr === cidr)) throw fail(`address '${cidr}' already exists`);
    set.entries.push(typed(settings(c, ["name"])));
    return null;
  },
  "DELETE /cluster/firewall/ipset/{name}": (c) => {
    if (ipset(c).entries.length && str(c, "force") !== "1") throw fail(`IPSet '${need(c, "name")}' is not empty`);
    delete fw(c).ipsets[need(c, "name")];
    return null;
  },
  "GET /cluster/firewall/ipset/{name}/{cidr}": ipsetEntry,
  "PUT /cluster/firewall/ipset/{name}/{cidr}": (c) => (
    Object.assign(ipsetEntry(c), typed(settings(c, ["name", "cidr"], ["digest"]))),
    null
  ),
  "DELETE /cluster/firewall/ipset/{name}/{cidr}": (c) => {
    const entry = ipsetEntry(c);
    ipset(c).entries = ipset(c).entries.filter((e) => e !== entry);
    return null;
  },

  "GET /cluster/firewall/aliases": (c) =>
    Object.values(fw(c).aliases).map((a) => ({ ...a, digest: digest(fw(c).aliases) })),
  "POST /cluster/firewall/aliases": (c) => {
    const name = need(c, "name");
    if (fw(c).aliases[name]) throw fail(`alias '${name}' already exists`);
    fw(c).aliases[name] = { name, ipversion: need(c, "cidr").includes(":") ? 6 : 4, ...typed(settings(c, [])) };
    return null;
  },
  "GET /cluster/firewall/aliases/{name}": alias,
  "PUT /cluster/firewall/aliases/{name}": (c) => {
    checkDigest(c, fw(c).aliases);
    const item = alias(c);
    const rename = str(c, "rename");
    Object.assign(item, typed(settings(c, ["name"], ["rename", "digest"])));
    if (rename) {
      delete fw(c).aliases[need(c, "name")];
      fw(c).aliases[rename] = { ...item, name: rename };
    }
    return null;
  },
  "DELETE /cluster/firewall/aliases/{name}": (c) => (alias(c), delete fw(c).aliases[need(c, "name")], null),
  ...optionRoutes("/cluster/firewall/options", (c) => fw(c).options, []),
  ...ruleRoutes("/cluster/firewall/rules", (c) => (fw(c).rules ??= []), []),
};

const vmFirewall = (c: Call): { options: Item; rules: Item[] } =>
  (fw(c).vms[getVm(c).vmid] ??= { options: {}, rules: [] });

export const firewallRoutes: Routes = {
  ...clusterRoutes,
  ...ruleRoutes("/nodes/{node}/qemu/{vmid}/firewall/rules", (c) => vmFirewall(c).rules, ["node", "vmid"]),
  ...optionRoutes("/nodes/{node}/qemu/{vmid}/firewall/options", (c) => vmFirewall(c).options, ["node", "vmid"]),
};
