// VLAN isolation with the Proxmox firewall: one IP set per VLAN subnet and one
// security group per VLAN holding its DROP rules. VMs join their VLAN's group
// (see vm.ts). Rules are compared as a list; a differing group is rewritten.
import { valueChange } from "../../resources/attrs-diff.ts";
import type { Change, HostCtx, Resource } from "../../engine/types.ts";
import { Type, type Static } from "@sinclair/typebox";
import { closed, oneOf } from "../../resources/options.ts";
import type { PveApi, Reply } from "./api.ts";
import { checkWant } from "./check.ts";

export interface VlanPolicy {
  name: string;
  subnet: string;
  /** VLANs this one may not reach. */
  denyTo: string[];
}

export const Rule = Type.Object(
  {
    type: oneOf(["in", "out"]),
    action: oneOf(["DROP", "ACCEPT", "REJECT"]),
    source: Type.Optional(Type.String()),
    dest: Type.Optional(Type.String()),
    comment: Type.String(),
  },
  closed,
);
export type Rule = Static<typeof Rule>;

export const FirewallWant = Type.Object(
  {
    /** IP set name -> its CIDR. */
    ipsets: Type.Record(Type.String(), Type.String()),
    /** Security group name -> its rules. */
    groups: Type.Record(Type.String(), Type.Array(Rule)),
  },
  closed,
);
export type FirewallWant = Static<typeof FirewallWant>;
type HaveRule = Reply<"/cluster/firewall/groups/{group}">[number];
export interface FirewallHave {
  ipsets: Record<string, string[]>;
  groups: Record<string, HaveRule[]>;
  enabled: boolean;
}

export const setName = (vlan: string) => `vlan-${vlan.toLowerCase()}`;
export const groupName = (vlan: string) => `vlan-${vlan.toLowerCase()}`;

/** Desired ipsets and groups: a VLAN's guests may not send to its deny_to VLANs, nor receive from VLANs denied to reach it. */
export function firewallPolicy(vlans: VlanPolicy[]): FirewallWant {
  const ipsets = Object.fromEntries(vlans.map((v) => [setName(v.name), v.subnet]));
  const groups: Record<string, Rule[]> = Object.fromEntries(vlans.map((v) => [groupName(v.name), [] as Rule[]]));
  for (const v of vlans) {
    for (const other of v.denyTo) {
      groups[groupName(v.name)]!.push({
        type: "out",
        action: "DROP",
        dest: `+${setName(other)}`,
        comment: `lab: ${v.name} may not reach ${other}`,
      });
      groups[groupName(other)]!.push({
        type: "in",
        action: "DROP",
        source: `+${setName(v.name)}`,
        comment: `lab: ${v.name} may not reach ${other}`,
      });
    }
  }
  return { ipsets, groups };
}

const key = (r: { type: string; action: string; source?: string; dest?: string; comment?: string }) =>
  `${r.type} ${r.action} ${r.source ?? "-"} -> ${r.dest ?? "-"} (${r.comment ?? ""})`;

export function vlanFirewall(
  pve: (ctx: HostCtx) => Promise<PveApi>,
  want: FirewallWant,
): Resource<FirewallWant, FirewallHave> {
  checkWant("vlanFirewall", FirewallWant, want);
  return {
    id: "pve:firewall/vlans",
    want,
    async read(ctx) {
      const api = await pve(ctx);
      const setList = await api.get("/cluster/firewall/ipset");
      const ipsets: Record<string, string[]> = {};
      for (const s of setList.filter((x) => x.name in want.ipsets)) {
        ipsets[s.name] = (await api.get("/cluster/firewall/ipset/{name}", { name: s.name })).map((e) => e.cidr);
      }
      const groupList = await api.get("/cluster/firewall/groups");
      const groups: Record<string, HaveRule[]> = {};
      for (const g of groupList.filter((x) => x.group in want.groups)) {
        groups[g.group] = (await api.get("/cluster/firewall/groups/{group}", { group: g.group })).sort(
          (a, b) => a.pos - b.pos,
        );
      }
      const options = await api.get("/cluster/firewall/options");
      return { ipsets, groups, enabled: Number(options.enable ?? 0) === 1 };
    },
    diff: firewallDiff,
    async apply(ctx, changes, have) {
      const api = await pve(ctx);
      for (const c of changes) {
        const [kind, name = ""] = c.key.split(":");
        if (kind === "ipset") {
          if (!have.ipsets[name]) await api.post("/cluster/firewall/ipset", { name, comment: "lab: VLAN subnet" });
          for (const cidr of have.ipsets[name] ?? [])
            await api.delete("/cluster/firewall/ipset/{name}/{cidr}", { name, cidr });
          await api.post("/cluster/firewall/ipset/{name}", { name, cidr: want.ipsets[name]! });
        }
        if (kind === "group") {
          if (!have.groups[name])
            await api.post("/cluster/firewall/groups", { group: name, comment: "lab: VLAN policy" });
          for (const r of [...(have.groups[name] ?? [])].reverse())
            await api.delete("/cluster/firewall/groups/{group}/{pos}", { group: name, pos: r.pos });
          // New rules go to the top: create in reverse to keep the wanted order.
          for (const r of [...(want.groups[name] ?? [])].reverse()) {
            await api.post("/cluster/firewall/groups/{group}", {
              group: name,
              type: r.type,
              action: r.action,
              enable: 1,
              comment: r.comment,
              source: r.source || undefined,
              dest: r.dest || undefined,
            });
          }
        }
        if (kind === "enable") await api.put("/cluster/firewall/options", { enable: 1 });
      }
    },
    ok: () => `${Object.keys(want.ipsets).length} VLAN IP sets and security groups match`,
  };
}

export function firewallDiff(want: FirewallWant, have: FirewallHave): Change[] {
  const out: Change[] = [];
  for (const [name, cidr] of Object.entries(want.ipsets)) {
    const h = have.ipsets[name];
    if (!h || h.length !== 1 || h[0] !== cidr)
      out.push(valueChange(`ipset:${name}`, `IP set ${name}: [${h?.join(", ") ?? "absent"}] -> [${cidr}]`, h, [cidr]));
  }
  for (const [name, rules] of Object.entries(want.groups)) {
    const h = have.groups[name];
    const wantKeys = rules.map(key);
    const haveKeys = (h ?? []).filter((r) => Number(r.enable ?? 1) === 1).map(key);
    if (!h || wantKeys.join("\n") !== haveKeys.join("\n") || h.length !== rules.length) {
      out.push(
        valueChange(
          `group:${name}`,
          `security group ${name}: ${h ? "rewrite" : "create"} with ${rules.length} rule(s): ${rules.map((r) => `${r.type} ${r.action} ${r.dest ?? r.source}`).join("; ") || "none"}`,
          h,
          rules,
        ),
      );
    }
  }
  if (!have.enabled)
    out.push(
      valueChange(
        "enable",
        "enable the cluster firewall (rules take effect; PVE's default input policy applies to the hosts)",
        false,
        true,
      ),
    );
  return out;
}
