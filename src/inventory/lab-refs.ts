// Cross-references between the lab sections of an inventory (proxmox, vlans,
// templates, vms, hosts): every name must exist, every VLAN tag be unique, so
// a typo is an error at plan time with its file:line:col — never an untagged NIC.
import { badInput } from "../errors.ts";

type Where = (path: (string | number)[]) => { file: string; line: number; col: number } | undefined;
type Section = Record<string, Record<string, unknown>>;

export function checkLabRefs(sections: Readonly<Record<string, Record<string, unknown>>>, hostVms: Map<string, string>, where: Where): void {
  const pve = (sections.proxmox ?? {}) as Section;
  const vlans = (sections.vlans ?? {}) as Section;
  const templates = (sections.templates ?? {}) as Section;
  const vms = (sections.vms ?? {}) as Section;
  const must = (ok: boolean, path: (string | number)[], message: string, hint: string) => {
    if (!ok) throw badInput(message, where(path) ?? {}, hint);
  };
  const names = (s: object) => Object.keys(s).join(", ") || "(none)";

  const tags = new Map<number, string>();
  for (const [name, v] of Object.entries(vlans)) {
    const tag = v.tag as number;
    must(!tags.has(tag), ["vlans", name, "tag"], `VLAN ${name} uses tag ${tag}, already used by VLAN ${tags.get(tag)}`, "give every VLAN its own tag");
    tags.set(tag, name);
    for (const other of (v.deny_to as string[] | undefined) ?? []) {
      must(other in vlans, ["vlans", name, "deny_to"], `VLAN ${name}: deny_to names unknown VLAN "${other}"`, `defined VLANs: ${names(vlans)}`);
    }
  }
  for (const [name, t] of Object.entries(templates)) {
    must(String(t.endpoint) in pve, ["templates", name, "endpoint"], `template ${name}: unknown Proxmox endpoint "${String(t.endpoint)}"`, `defined endpoints: ${names(pve)}`);
  }
  const vmids = new Map<number, string>();
  for (const [name, t] of Object.entries(templates)) vmids.set(t.vmid as number, `template ${name}`);
  for (const [name, vm] of Object.entries(vms)) {
    must(String(vm.template) in templates, ["vms", name, "template"], `VM ${name}: unknown template "${String(vm.template)}"`, `defined templates: ${names(templates)}`);
    for (const [i, vlan] of [vm.vlan as string, ...((vm.extra_vlans as string[] | undefined) ?? [])].entries()) {
      must(vlan in vlans, i === 0 ? ["vms", name, "vlan"] : ["vms", name, "extra_vlans", i - 1],
        `VM ${name}: VLAN "${vlan}" is not defined, so its NIC would have no valid tag`, `defined VLANs: ${names(vlans)}`);
    }
    const id = vm.vmid as number | undefined;
    if (id !== undefined) {
      must(!vmids.has(id), ["vms", name, "vmid"], `VM ${name}: vmid ${id} is already used by ${vmids.get(id)}`, "give every VM and template its own vmid");
      vmids.set(id, `VM ${name}`);
    }
  }
  for (const [host, vm] of hostVms) {
    must(vm in vms, ["hosts", host, "vm"], `host ${host}: unknown VM "${vm}"`, `defined VMs: ${names(vms)}`);
  }
}
