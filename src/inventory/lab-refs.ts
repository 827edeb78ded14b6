// Cross-references between the lab sections of an inventory (proxmox, vlans,
// templates, vms, hosts): every name must exist, every VLAN tag be unique, so
// a typo is an error at plan time with its file:line:col — never an untagged NIC.
import { badInput } from "../errors.ts";
import type { LabModel } from "./model.ts";

type Where = (path: (string | number)[]) => { file: string; line: number; col: number } | undefined;

export function checkLabRefs(lab: LabModel, hostVms: Map<string, string>, where: Where): void {
  const { proxmox: pve, vlans, templates, vms } = lab;
  const must = (ok: boolean, path: (string | number)[], message: string, hint: string) => {
    if (!ok) throw badInput(message, where(path) ?? {}, hint);
  };
  const names = (s: object) => Object.keys(s).join(", ") || "(none)";

  const tags = new Map<number, string>();
  for (const [name, v] of Object.entries(vlans)) {
    must(
      !tags.has(v.tag),
      ["vlans", name, "tag"],
      `VLAN ${name} uses tag ${v.tag}, already used by VLAN ${tags.get(v.tag)}`,
      "give every VLAN its own tag",
    );
    tags.set(v.tag, name);
    for (const other of v.deny_to ?? []) {
      must(
        other in vlans,
        ["vlans", name, "deny_to"],
        `VLAN ${name}: deny_to names unknown VLAN "${other}"`,
        `defined VLANs: ${names(vlans)}`,
      );
    }
  }
  const nodesOf = (ep: string): string[] => pve[ep]?.nodes ?? (pve[ep] ? [pve[ep].node] : []);
  for (const [name, ep] of Object.entries(pve)) {
    must(
      !ep.nodes || ep.nodes.includes(ep.node),
      ["proxmox", name, "nodes"],
      `Proxmox endpoint ${name}: node "${ep.node}" is not among its nodes`,
      `add ${ep.node} to nodes: (lab's API calls and the templates default to it)`,
    );
  }
  for (const [name, t] of Object.entries(templates)) {
    must(
      t.endpoint in pve,
      ["templates", name, "endpoint"],
      `template ${name}: unknown Proxmox endpoint "${t.endpoint}"`,
      `defined endpoints: ${names(pve)}`,
    );
    must(
      !t.node || nodesOf(t.endpoint).includes(t.node),
      ["templates", name, "node"],
      `template ${name}: node "${t.node}" is not a node of endpoint ${t.endpoint}`,
      `its nodes: ${nodesOf(t.endpoint).join(", ")} (proxmox.${t.endpoint}.nodes)`,
    );
  }
  const vmids = new Map<number, string>();
  for (const [name, t] of Object.entries(templates)) vmids.set(t.vmid, `template ${name}`);
  for (const [name, vm] of Object.entries(vms)) {
    must(
      vm.template in templates,
      ["vms", name, "template"],
      `VM ${name}: unknown template "${vm.template}"`,
      `defined templates: ${names(templates)}`,
    );
    const ep = templates[vm.template]!.endpoint;
    must(
      !vm.node || nodesOf(ep).includes(vm.node),
      ["vms", name, "node"],
      `VM ${name}: node "${vm.node}" is not a node of endpoint ${ep}`,
      `its nodes: ${nodesOf(ep).join(", ")} (proxmox.${ep}.nodes)`,
    );
    for (const [i, vlan] of [vm.vlan, ...(vm.extra_vlans ?? [])].entries()) {
      must(
        vlan in vlans,
        i === 0 ? ["vms", name, "vlan"] : ["vms", name, "extra_vlans", i - 1],
        `VM ${name}: VLAN "${vlan}" is not defined, so its NIC would have no valid tag`,
        `defined VLANs: ${names(vlans)}`,
      );
    }
    if (vm.vmid !== undefined) {
      must(
        !vmids.has(vm.vmid),
        ["vms", name, "vmid"],
        `VM ${name}: vmid ${vm.vmid} is already used by ${vmids.get(vm.vmid)}`,
        "give every VM and template its own vmid",
      );
      vmids.set(vm.vmid, `VM ${name}`);
    }
  }
  for (const [host, vm] of hostVms) {
    must(vm in vms, ["hosts", host, "vm"], `host ${host}: unknown VM "${vm}"`, `defined VMs: ${names(vms)}`);
  }
}
