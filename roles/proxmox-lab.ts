// proxmox-lab: everything the inventory says about one Proxmox endpoint: the
// VLAN-aware bridge, the SDN VLAN zone with a VNet per VLAN, the firewall
// policy between VLANs, the VM templates, and the VMs on their VLANs.
import { defineRole } from "../src/index.ts";
import type { Resource } from "../src/index.ts";
import { vlanBridge } from "../src/proxmox/resources/network.ts";
import { sdnVlans } from "../src/proxmox/resources/sdn.ts";
import { firewallPolicy, vlanFirewall } from "../src/proxmox/resources/firewall.ts";
import { vmTemplate, type OsType, type TemplateWant } from "../src/proxmox/resources/template.ts";
import { vm } from "../src/proxmox/resources/vm.ts";
import { pveService, vmidService, type PveEndpoint } from "../src/proxmox/resources/connect.ts";
import { neededPrivileges, permissionPreflight } from "../src/proxmox/resources/preflight.ts";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

interface Vlan { tag: number; subnet: string; gateway?: string; vnet?: string; deny_to?: string[]; isolated?: boolean; comment?: string }
interface TemplateDef { endpoint: string; image_url: string; checksum: string; vmid: number; cores?: number; memory?: number; os_type?: OsType }
interface VmDef { template: string; vmid?: number; clone?: "linked" | "full"; cores?: number; memory?: number; disk?: number; vlan: string; extra_vlans?: string[]; ip?: string; user?: string; ssh_keys?: string[]; tags?: string[]; description?: string; started?: boolean }

export const proxmoxLab = defineRole<{ endpoint: string; agentTimeoutSec?: number }>({
  name: "proxmox-lab",
  schema: {
    type: "object",
    properties: { endpoint: { type: "string" }, agentTimeoutSec: { type: "integer", minimum: 1, nullable: true } },
    required: ["endpoint"],
    additionalProperties: false,
  },
  resources: (v, _host, lab) => {
    const ep = lab.sections.proxmox?.[v.endpoint] as PveEndpoint;
    const vlans = Object.entries((lab.sections.vlans ?? {}) as Record<string, Vlan>);
    const templates = Object.entries((lab.sections.templates ?? {}) as Record<string, TemplateDef>).filter(([, t]) => t.endpoint === v.endpoint);
    const vms = Object.entries((lab.sections.vms ?? {}) as Record<string, VmDef>).filter(([, m]) => templates.some(([n]) => n === m.template));
    const pve = pveService(v.endpoint, ep, lab.secret(ep.token_secret), lab.root);
    const ids = vmidService(v.endpoint, ep);
    const bridge = ep.bridge ?? "vmbr0";
    const vlanOf = (name: string) => vlans.find(([n]) => n === name)![1];

    const templateWant = (name: string, t: TemplateDef): TemplateWant => ({
      name, node: ep.node, vmid: t.vmid, imageUrl: t.image_url, checksum: t.checksum,
      storage: ep.storage ?? "local-lvm", imageStorage: ep.image_storage ?? "local", bridge,
      cores: t.cores ?? 2, memory: t.memory ?? 2048, osType: t.os_type ?? "l26",
    });
    const keys = (list: string[] | undefined) => (list ?? []).map((k) => (k.endsWith(".pub") ? readFileSync(resolve(lab.root, k), "utf8").trim() : k.trim()));

    const resources: Resource[] = [
      // First: a missing privilege stops the play before anything changes.
      permissionPreflight(pve, neededPrivileges(ep.node, [...new Set([ep.storage ?? "local-lvm", ep.image_storage ?? "local"])])),
      vlanBridge(pve, { node: ep.node, bridge, vids: vlans.map(([, x]) => x.tag).sort((a, b) => a - b).join(" "), ...(ep.bridge_ports ? { ports: ep.bridge_ports } : {}), comment: "lab: VLAN trunk" }),
      sdnVlans(pve, { zone: ep.sdn_zone ?? "lab", bridge, vnets: vlans.map(([n, x]) => ({ vnet: x.vnet ?? n.toLowerCase().slice(0, 8), tag: x.tag, alias: x.comment ?? n, ...(x.isolated ? { isolatePorts: true } : {}) })) }),
      vlanFirewall(pve, firewallPolicy(vlans.map(([n, x]) => ({
        name: n, subnet: x.subnet,
        denyTo: x.isolated ? vlans.map(([o]) => o).filter((o) => o !== n) : (x.deny_to ?? []),
      })))),
      ...templates.map(([n, t]) => vmTemplate(pve, ids, templateWant(n, t)) as Resource),
      ...vms.map(([n, m]) => {
        const t = templates.find(([tn]) => tn === m.template)!;
        const net0 = vlanOf(m.vlan);
        return vm({ pve, ids }, {
          name: n, node: ep.node, template: templateWant(t[0], t[1]), clone: m.clone ?? "linked", storage: ep.storage ?? "local-lvm",
          cores: m.cores ?? 1, memory: m.memory ?? 1024, ...(m.disk ? { diskGiB: m.disk } : {}),
          nics: [m.vlan, ...(m.extra_vlans ?? [])].map((name) => ({ bridge, tag: vlanOf(name).tag, vlan: name })),
          ip: m.ip ?? "dhcp", ...(m.ip && m.ip !== "dhcp" && net0.gateway ? { gateway: net0.gateway } : {}),
          user: m.user ?? "lab", sshKeys: keys(m.ssh_keys), tags: m.tags ?? [], ...(m.description ? { description: m.description } : {}),
          started: m.started ?? true, ...(m.vmid ? { vmid: m.vmid } : {}), agentTimeoutSec: v.agentTimeoutSec ?? 300,
        });
      }),
    ];
    return resources;
  },
});
