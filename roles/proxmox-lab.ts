// proxmox-lab: everything the inventory says about one Proxmox endpoint: the
// VLAN-aware bridge, the SDN VLAN zone with a VNet per VLAN, the firewall
// policy between VLANs, the VM templates, and the VMs on their VLANs. Pure: the
// VMs' .pub keys were read when the inventory was loaded (lab.vmKeys).
import {
  Type,
  defineRole,
  type Resource,
  type VmTemplate,
  vlanBridge,
  sdnVlans,
  firewallPolicy,
  vlanFirewall,
  vmTemplate,
  type TemplateWant,
  vm,
  pveService,
  vmidService,
  neededPrivileges,
  permissionPreflight,
  badInput,
  endpointNodes,
  placeVms,
} from "lab";

export const proxmoxLab = defineRole({
  name: "proxmox-lab",
  vars: Type.Object(
    {
      /** A name under proxmox: in the inventory. */
      endpoint: Type.String(),
      /** Seconds to wait for a VM's guest agent (default 300). */
      agentTimeoutSec: Type.Optional(Type.Integer({ minimum: 1 })),
    },
    { additionalProperties: false },
  ),
  resources: (v, _host, tools) => {
    const { lab } = tools;
    const ep = lab.proxmox[v.endpoint];
    if (!ep)
      throw badInput(
        `role proxmox-lab: unknown Proxmox endpoint "${v.endpoint}"`,
        {},
        `defined endpoints: ${Object.keys(lab.proxmox).join(", ") || "(none)"}`,
      );
    const vlans = Object.entries(lab.vlans);
    const templates = Object.entries(lab.templates).filter(([, t]) => t.endpoint === v.endpoint);
    const vms = Object.entries(lab.vms).filter(([, m]) => templates.some(([n]) => n === m.template));
    const pve = pveService(v.endpoint, ep, tools.secret(ep.token_secret), tools.root);
    const ids = vmidService(v.endpoint, ep);
    const bridge = ep.bridge ?? "vmbr0";
    const vlanOf = (name: string) => vlans.find(([n]) => n === name)![1];
    const nodes = endpointNodes(ep);
    const placement = placeVms(lab, v.endpoint);
    const needed = neededPrivileges(
      ep.node,
      [
        ...new Set([
          ep.storage ?? "local-lvm",
          ep.image_storage ?? "local",
          ...templates.flatMap(([, t]) => t.storage ?? []),
        ]),
      ],
      [
        {
          bridge,
          untagged: templates.length > 0,
          tags: [...new Set(vms.flatMap(([, m]) => [m.vlan, ...(m.extra_vlans ?? [])]).map((n) => vlanOf(n).tag))].sort(
            (a, b) => a - b,
          ),
        },
      ],
      { nodes, migrate: nodes.length > 1 && vms.some(([, m]) => m.node) },
    );

    const templateWant = (name: string, t: VmTemplate): TemplateWant => ({
      name,
      node: t.node ?? ep.node,
      vmid: t.vmid,
      imageUrl: t.image_url,
      checksum: t.checksum,
      storage: t.storage ?? ep.storage ?? "local-lvm",
      imageStorage: ep.image_storage ?? "local",
      bridge,
      cores: t.cores ?? 2,
      memory: t.memory ?? 2048,
      osType: t.os_type ?? "l26",
    });

    const resources: Resource[] = [
      // First: a missing privilege stops the play before anything changes.
      permissionPreflight(pve, needed),
      ...nodes.map((node) =>
        vlanBridge(pve, {
          node,
          bridge,
          vids: vlans
            .map(([, x]) => x.tag)
            .sort((a, b) => a - b)
            .join(" "),
          ...(ep.bridge_ports ? { ports: ep.bridge_ports } : {}),
          comment: "lab: VLAN trunk",
        }),
      ),
      sdnVlans(pve, {
        zone: ep.sdn_zone ?? "lab",
        bridge,
        vnets: vlans.map(([n, x]) => ({
          vnet: x.vnet ?? n.toLowerCase().slice(0, 8),
          tag: x.tag,
          alias: x.comment ?? n,
          ...(x.isolated ? { isolatePorts: true } : {}),
        })),
      }),
      vlanFirewall(
        pve,
        firewallPolicy(
          vlans.map(([n, x]) => ({
            name: n,
            subnet: x.subnet,
            denyTo: x.isolated ? vlans.map(([o]) => o).filter((o) => o !== n) : (x.deny_to ?? []),
          })),
        ),
      ),
      ...templates.map(([n, t]) => vmTemplate(pve, ids, templateWant(n, t)) as Resource),
      ...vms.map(([n, m]) => {
        const t = templates.find(([tn]) => tn === m.template)!;
        const net0 = vlanOf(m.vlan);
        const at = placement.get(n)!;
        return vm(
          { pve, ids },
          {
            name: n,
            node: at.node,
            nodePinned: at.pinned,
            template: templateWant(t[0], t[1]),
            clone: m.clone ?? "linked",
            storage: ep.storage ?? "local-lvm",
            cores: m.cores ?? 1,
            memory: m.memory ?? 1024,
            ...(m.disk ? { diskGiB: m.disk } : {}),
            nics: [m.vlan, ...(m.extra_vlans ?? [])].map((name) => ({ bridge, tag: vlanOf(name).tag, vlan: name })),
            ip: m.ip ?? "dhcp",
            ...(m.ip && m.ip !== "dhcp" && net0.gateway ? { gateway: net0.gateway } : {}),
            user: m.user ?? "lab",
            sshKeys: tools.vmKeys(n),
            tags: m.tags ?? [],
            ...(m.description ? { description: m.description } : {}),
            started: m.started ?? true,
            ...(m.vmid ? { vmid: m.vmid } : {}),
            agentTimeoutSec: v.agentTimeoutSec ?? 300,
          },
        );
      }),
    ];
    return resources;
  },
});
