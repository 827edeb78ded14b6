// What `lab drill` restores per VM target of the backup policy: its VMs, the
// drill VLAN every NIC of a copy goes to (default Lab; never a VM's production
// VLAN), how a restored guest is logged into (as the VM's inventory host), and
// the probes of backups/drills.yaml's `vms:` section. Bad input is file:line:col,
// exit 2, nothing contacted.
import { parseDuration } from "../backup/duration.ts";
import type { BackupPolicy, VmPolicy } from "../backup/policy.ts";
import type { ConnectionInfo } from "../engine/types.ts";
import type { Inventory } from "../inventory/inventory.ts";
import type { DrillsFile, VmProbe } from "./model.ts";

export const DEFAULT_DRILL_VLAN = "Lab";
const DEFAULT_AGENT_TIMEOUT_SEC = 300;

export interface VmDrillVm {
  readonly name: string;
  /** VLAN names of the VM's NICs in production (inventory vms.NAME.vlan + extra_vlans). */
  readonly productionVlans: readonly string[];
  /** How its guest is logged into (the inventory host whose `vm:` is this VM); absent: no SSH probes possible. */
  readonly login?: ConnectionInfo;
  readonly probes: readonly VmProbe[];
}

export interface VmDrillDef {
  readonly target: VmPolicy;
  readonly endpoint: string;
  readonly node: string;
  /** Storage the copy's disks are restored to (the endpoint's VM storage). */
  readonly storage: string;
  readonly vmidRange: { readonly min: number; readonly max: number };
  readonly vlan: { readonly name: string; readonly tag: number };
  readonly vms: readonly VmDrillVm[];
  readonly olderEverySec: number;
  readonly agentTimeoutSec: number;
}

type Fail = (path: (string | number)[], message: string, hint: string) => never;

export function resolveVmDrills(
  data: DrillsFile,
  fail: Fail,
  policy: BackupPolicy,
  inv: Pick<Inventory, "hosts" | "lab">,
): VmDrillDef[] {
  const entries = data.vms ?? {};
  for (const name of Object.keys(entries)) {
    if (!policy.vms.some((t) => t.name === name))
      fail(
        ["vms", name],
        `drill for "${name}": no such VM target in the backup policy`,
        `VM targets: ${policy.vms.map((t) => t.name).join(", ") || "(none)"}`,
      );
  }
  const logins = new Map(
    [...inv.hosts.values()].filter((h) => h.connection.vm).map((h) => [h.connection.vm!, h.connection] as const),
  );
  return policy.vms.map((target): VmDrillDef => {
    const o = entries[target.name] ?? {};
    const at = (...path: (string | number)[]) => ["vms", target.name, ...path];
    const ep = inv.lab.proxmox[target.endpoint]!;
    const vlanName = o.vlan ?? DEFAULT_DRILL_VLAN;
    const vlan = inv.lab.vlans[vlanName];
    if (!vlan)
      fail(
        o.vlan ? at("vlan") : ["vms", target.name],
        `drill for ${target.name}: VLAN "${vlanName}" is not in the inventory's vlans:`,
        `a drill restores onto an isolated VLAN: add ${vlanName} to vlans: or set vms.${target.name}.vlan to one of ${Object.keys(inv.lab.vlans).join(", ") || "(none)"}`,
      );
    const probes = o.probes ?? [];
    probes.forEach((p, i) => {
      if (p.vm !== undefined && !target.vms.includes(p.vm))
        fail(
          at("probes", i, "vm"),
          `drill for ${target.name}: probe "${p.name}" names VM "${p.vm}", which the target does not back up`,
          `VMs of ${target.name}: ${target.vms.join(", ")}`,
        );
    });
    const vms = target.vms.map((name): VmDrillVm => {
      const v = inv.lab.vms[name]!;
      const productionVlans = [v.vlan, ...(v.extra_vlans ?? [])];
      if (productionVlans.includes(vlanName)) {
        fail(
          o.vlan ? at("vlan") : ["vms", target.name],
          `drill for ${target.name}: VM ${name} is on ${vlanName} in production; a drill copy must never join its production VLAN`,
          `set vms.${target.name}.vlan to another isolated VLAN (vlans: with isolated: true) that ${name} does not use`,
        );
      }
      const mine = probes.filter((p) => p.vm === undefined || p.vm === name);
      const login = logins.get(name);
      const needsLogin = mine.find((p) => !("http" in p));
      if (needsLogin && !login) {
        fail(
          at("probes", probes.indexOf(needsLogin)),
          `drill for ${target.name}: probe "${needsLogin.name}" logs into ${name}'s guest, but no inventory host has vm: ${name}`,
          `add a host with vm: ${name} (user, key) to the inventory, or restrict the probe to another VM with vm:`,
        );
      }
      return { name, productionVlans, ...(login ? { login } : {}), probes: mine };
    });
    return {
      target,
      endpoint: target.endpoint,
      node: ep.node,
      storage: ep.storage ?? "local-lvm",
      vmidRange: ep.vmid_range ?? { min: 100, max: 999_999 },
      vlan: { name: vlanName, tag: vlan.tag },
      vms,
      olderEverySec: o.older_every ? parseDuration(o.older_every)! : target.drillEverySec,
      agentTimeoutSec: o.agent_timeout ? parseDuration(o.agent_timeout)! : DEFAULT_AGENT_TIMEOUT_SEC,
    };
  });
}
