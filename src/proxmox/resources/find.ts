// Looking VMs up by name and allocating VMIDs without races inside a run.
import { ExitCode, LabError } from "../../errors.ts";
import type { PveApi, Reply } from "./api.ts";

/** A VM as /cluster/resources lists it (node and vmid always set for type qemu). */
export type VmEntry = Omit<Reply<"/cluster/resources">[number], "vmid" | "node"> & { vmid: number; node: string };

/**
 * Every VM of the cluster. /cluster/resources lists a VM as soon as its config exists, but its
 * name, status and template flag come from pvestatd's status cycle (~10 s behind). With
 * `current`, those three are taken from each node's own list (read from the configs), so what
 * this run just created or converted is seen as it is.
 */
export async function listVms(api: PveApi, opts: { current?: boolean } = {}): Promise<VmEntry[]> {
  const all = (await api.get("/cluster/resources", { type: "vm" }))
    .filter((r) => r.type === "qemu")
    .map((r) => ({ ...r, vmid: Number(r.vmid), node: r.node ?? "" }));
  if (!opts.current) return all;
  const now = new Map<number, Reply<"/nodes/{node}/qemu">[number]>();
  for (const node of new Set(all.map((v) => v.node)))
    for (const v of await api.get("/nodes/{node}/qemu", { node })) now.set(Number(v.vmid), v);
  return all.map((v) => {
    const cur = now.get(v.vmid);
    if (!cur) return v;
    const { name: _name, status: _status, template: _template, ...rest } = v;
    return {
      ...rest,
      status: cur.status,
      ...(cur.name !== undefined ? { name: cur.name } : {}),
      ...(cur.template !== undefined ? { template: cur.template } : {}),
    };
  });
}

export const isTemplate = (v: VmEntry): boolean => v.template === true || Number(v.template ?? 0) === 1;

/** VMIDs handed out in this run, per endpoint, so two VMs created in one run never get the same id. */
export class VmidAllocator {
  readonly #reserved = new Set<number>();
  constructor(private readonly range: { min: number; max: number }) {}
  reserve(id: number): void {
    this.#reserved.add(id);
  }
  async next(api: PveApi, from = this.range.min): Promise<number> {
    const used = new Set((await listVms(api)).map((v) => v.vmid));
    for (let id = Math.max(from, this.range.min); id <= this.range.max; id++) {
      if (!used.has(id) && !this.#reserved.has(id)) {
        this.#reserved.add(id);
        return id;
      }
    }
    throw new LabError(
      `no free VMID in ${this.range.min}-${this.range.max} on ${api.endpoint}`,
      ExitCode.failed,
      {},
      "widen proxmox.<endpoint>.vmid_range or remove unused VMs",
    );
  }
}

/** Parse our marker in a description: "lab-vm=web1;template=debian-12@1a2b3c4d". */
export function marker(description: string | undefined): Record<string, string> {
  const line = (description ?? "").split("\n").find((l) => l.startsWith("lab:")) ?? "";
  return Object.fromEntries(
    line
      .slice(4)
      .split(";")
      .filter(Boolean)
      .map((kv) => kv.split("=", 2) as [string, string]),
  );
}

export const markerLine = (fields: Record<string, string>): string =>
  `lab:${Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join(";")}`;

export interface LabTemplate {
  vmid: number;
  name: string;
  template: boolean;
  version?: string;
}

/** VMs on a node that carry lab's marker for template NAME (built templates and half-built ones). */
export async function labTemplates(api: PveApi, node: string, name: string): Promise<LabTemplate[]> {
  const out: LabTemplate[] = [];
  for (const v of await listVms(api, { current: true })) {
    if (v.node !== node) continue;
    const m = marker((await api.get("/nodes/{node}/qemu/{vmid}/config", { node: v.node, vmid: v.vmid })).description);
    if (m["lab-template"] === name)
      out.push({
        vmid: v.vmid,
        name: v.name ?? "",
        template: isTemplate(v),
        ...(m.version ? { version: m.version } : {}),
      });
  }
  return out;
}

/** The agent's reply (the schema says only "an object with a `result` property": QEMU's guest-network-get-interfaces). */
type Interfaces = {
  result: { name: string; "ip-addresses"?: { "ip-address": string; "ip-address-type": string }[] }[];
};

/** The guest's first non-loopback IPv4 address as its agent reports it (undefined: none yet). */
export async function agentIpv4(api: PveApi, node: string, vmid: number): Promise<string | undefined> {
  const r = (await api.get("/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces", { node, vmid })) as Interfaces;
  return r.result
    .filter((i) => i.name !== "lo")
    .flatMap((i) => i["ip-addresses"] ?? [])
    .find((a) => a["ip-address-type"] === "ipv4")?.["ip-address"];
}
