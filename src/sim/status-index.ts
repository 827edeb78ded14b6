// What pvestatd feeds /cluster/resources: a guest's name, status and template
// flag come from status data broadcast once per cycle (~10 s on a real node,
// PVE::API2Tools::extract_vm_stats over the RRD cache), so that list lags behind
// the configs; vmid, node, lock and tags come from the cluster file system and are
// current. The per-node list (/nodes/{node}/qemu) and a VM's config/status are current.
import type { Item, SimState } from "./state.ts";

export interface VmStats {
  name: string;
  status: string;
  template?: 1;
  uptime: number;
  cpu: number;
  mem: number;
}

export class StatusIndex {
  readonly #start = Date.now();
  #epoch = -1;
  #stats = new Map<string, VmStats>();
  /** @param cycleMs the status cycle; 0: always current. */
  constructor(
    private readonly cycleMs: number,
    private readonly current: (state: SimState, vmid: string) => Item,
  ) {}

  /** The last cycle's stats by vmid; a VM created since is missing (PVE then lists it with status "unknown"). */
  snapshot(state: SimState): ReadonlyMap<string, VmStats> {
    if (this.cycleMs <= 0) return new Map(Object.keys(state.vms).map((id) => [id, this.take(state, id)]));
    const epoch = Math.floor((Date.now() - this.#start) / this.cycleMs);
    if (epoch !== this.#epoch) {
      this.#epoch = epoch;
      this.#stats = new Map(Object.keys(state.vms).map((id) => [id, this.take(state, id)]));
    }
    return this.#stats;
  }

  private take(state: SimState, vmid: string): VmStats {
    const item = this.current(state, vmid);
    return {
      name: String(item.name),
      status: String(item.status),
      uptime: Number(item.uptime),
      cpu: Number(item.cpu),
      mem: Number(item.mem),
      ...(item.template ? { template: 1 as const } : {}),
    };
  }
}
