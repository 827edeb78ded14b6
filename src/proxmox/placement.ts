// Which cluster node a VM lives on (ADR 0017). A VM that names its node lives there, and
// a changed node is a migration. A VM without one is placed at creation by one rule:
// round-robin over the endpoint's nodes, in inventory order of the unplaced VMs of that
// endpoint; once created it stays where it is (the rule never moves a VM).
import type { LabModel, PveEndpoint } from "../inventory/model.ts";

/** The endpoint's cluster nodes: `nodes`, or the one `node`. */
export const endpointNodes = (ep: PveEndpoint): string[] => ep.nodes ?? [ep.node];

export interface Placement {
  node: string;
  /** true: the inventory names the node (a VM elsewhere is migrated); false: placed by the rule at creation. */
  pinned: boolean;
}

/** Placement of every VM of the endpoint, by VM name. */
export function placeVms(lab: LabModel, endpoint: string): Map<string, Placement> {
  const ep = lab.proxmox[endpoint];
  const out = new Map<string, Placement>();
  if (!ep) return out;
  const nodes = endpointNodes(ep);
  let next = 0;
  for (const [name, vm] of Object.entries(lab.vms)) {
    if (lab.templates[vm.template]?.endpoint !== endpoint) continue;
    if (vm.node) out.set(name, { node: vm.node, pinned: true });
    else out.set(name, { node: nodes[next++ % nodes.length]!, pinned: false });
  }
  return out;
}
