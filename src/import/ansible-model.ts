// Ansible's inventory model as its parsers build it (inventory/data.py, group.py):
// groups with direct hosts, children and vars; hosts with vars; "all" and
// "ungrouped" always exist. Both parsers (ini.ts, yaml.ts) fill one of these.
import { badInput } from "../errors.ts";

/** Where a thing was written: file and (when known) line. */
export interface Origin {
  file: string;
  line?: number;
}

export const at = (o: Origin): string => (o.line ? `${o.file}:${o.line}` : o.file);

/** A `!vault` value (or a var from a vaulted file): lab cannot read it. */
export class Vaulted {
  constructor(readonly ciphertext: string) {}
}

/** A vaulted value, or a list/dict holding one. */
export const hasVault = (v: unknown): boolean =>
  v instanceof Vaulted || (typeof v === "object" && v !== null && Object.values(v).some(hasVault));

export interface VarsOwner {
  readonly name: string;
  readonly vars: Record<string, unknown>;
  /** Where each var was last set. */
  readonly varOrigins: Record<string, Origin>;
  readonly origin?: Origin;
}
export interface AnsibleGroup extends VarsOwner {
  readonly hosts: string[];
  readonly children: string[];
}
export type AnsibleHost = VarsOwner;

export class AnsibleInventory {
  readonly groups = new Map<string, AnsibleGroup>();
  readonly hosts = new Map<string, AnsibleHost>();

  constructor() {
    this.addGroup("all");
    this.addGroup("ungrouped");
    this.addChild("all", "ungrouped");
  }

  addGroup(name: string, origin?: Origin): AnsibleGroup {
    let g = this.groups.get(name);
    if (!g)
      this.groups.set(
        name,
        (g = { name, vars: {}, varOrigins: {}, hosts: [], children: [], ...(origin ? { origin } : {}) }),
      );
    return g;
  }

  addHost(name: string, group: string, origin: Origin, port?: number): void {
    if (!this.hosts.has(name)) this.hosts.set(name, { name, vars: {}, varOrigins: {}, origin });
    const g = this.addGroup(group);
    if (!g.hosts.includes(name)) g.hosts.push(name);
    if (port !== undefined) this.setVar("host", name, "ansible_port", port, origin);
  }

  addChild(parent: string, child: string, origin?: Origin): void {
    const p = this.groups.get(parent);
    if (!p || !this.groups.has(child)) throw badInput(`${child} is not a known group`, origin ?? {});
    if (parent === child || this.descendants(child).has(parent)) {
      throw badInput(
        `adding group '${child}' as child to '${parent}' makes a group cycle`,
        origin ?? {},
        "remove one of the children links",
      );
    }
    if (!p.children.includes(child)) p.children.push(child);
  }

  setVar(kind: "host" | "group", name: string, key: string, value: unknown, origin: Origin): void {
    const owner = kind === "host" ? this.hosts.get(name) : this.groups.get(name);
    if (!owner) throw badInput(`${kind} ${name} is not defined`, origin);
    owner.vars[key] = value;
    owner.varOrigins[key] = origin;
  }

  /** What Ansible does after parsing: top groups under "all", hosts in no group in "ungrouped". */
  reconcile(): void {
    const parents = this.parentsMap();
    for (const g of this.groups.keys()) if (g !== "all" && !parents.get(g)?.size) this.addChild("all", g);
    const ungrouped = this.groups.get("ungrouped")!;
    for (const h of this.hosts.keys()) {
      const groups = this.groupsOf(h);
      const others = groups.filter((g) => g !== "all" && g !== "ungrouped");
      if (others.length > 0) {
        const i = ungrouped.hosts.indexOf(h);
        if (i >= 0) ungrouped.hosts.splice(i, 1);
      } else if (!groups.includes("ungrouped")) ungrouped.hosts.push(h);
    }
  }

  descendants(group: string): Set<string> {
    const out = new Set<string>();
    const down = (g: string) => {
      for (const c of this.groups.get(g)?.children ?? []) {
        if (out.has(c)) continue;
        out.add(c);
        down(c);
      }
    };
    down(group);
    return out;
  }

  parentsMap(): Map<string, Set<string>> {
    const parents = new Map<string, Set<string>>();
    for (const g of this.groups.values())
      for (const c of g.children) (parents.get(c) ?? parents.set(c, new Set()).get(c)!).add(g.name);
    return parents;
  }

  /** Every group a host is in: direct and their ancestors ("all" included). */
  groupsOf(host: string): string[] {
    const parents = this.parentsMap();
    const out = new Set<string>();
    const up = (g: string) => {
      if (out.has(g)) return;
      out.add(g);
      for (const p of parents.get(g) ?? []) up(p);
    };
    for (const g of this.groups.values()) if (g.hosts.includes(host)) up(g.name);
    return [...out];
  }

  /** Group depth: the longest path from "all" (all = 0), as Group.depth. */
  depths(): Map<string, number> {
    const depth = new Map<string, number>();
    const walk = (g: string, d: number) => {
      if ((depth.get(g) ?? -1) >= d) return;
      depth.set(g, d);
      for (const c of this.groups.get(g)?.children ?? []) walk(c, d + 1);
    };
    walk("all", 0);
    return depth;
  }
}
