// The inventory model, declared ONCE with TypeBox: each declaration is both the
// JSON Schema that ajv validates a file against (and that inventory/schema.json
// is generated from: `npm run gen:schema`) and, through Static<>, the TypeScript
// type the rest of the code reads. Nothing outside this file casts inventory data.
//
// Adding a section (e.g. `pbs:` for Proxmox Backup Server endpoints, or backup jobs):
//   1. declare its entry: `export const PbsEndpoint = Type.Object({...}, closed)`;
//   2. add it to `labSections` below: `pbs: named(PbsEndpoint, "PBS endpoints by name.")`;
//   3. `npm run gen:schema` (a unit test fails while inventory/schema.json is stale).
// `inv.lab.pbs` is then typed, merged across files (a name defined twice is an
// error with both files) and positioned (`inv.where(["pbs", name, key])`).
// Cross-references between sections are checked in lab-refs.ts.
import { Type, type Static, type TOptional, type TSchema } from "@sinclair/typebox";

const closed = { additionalProperties: false } as const;
const NAME = "^[A-Za-z0-9][A-Za-z0-9_.-]*$";

export const Name = Type.String({ pattern: NAME });

/** A mapping from names to entries: a name must be a valid name, every entry an `item`. */
export function named<T extends TSchema>(item: T, description: string) {
  return Type.Unsafe<Record<string, Static<T>>>({
    type: "object",
    description,
    propertyNames: { pattern: NAME },
    additionalProperties: item,
  });
}

/** One of these strings (JSON Schema `enum`, so an error lists the allowed values). */
export function literals<const T extends readonly string[]>(values: T, opts: { description?: string } = {}) {
  return Type.Unsafe<T[number]>({ enum: [...values], ...opts });
}

/** Free-form vars; a project types its host vars with defineHostVars (src/engine/host-vars.ts), roles validate theirs. */
export const Vars = Type.Unsafe<Record<string, unknown>>({
  type: "object",
  description: "Vars; a playbook's declared host vars (defineHostVars) say which names and types are allowed.",
});

const ConnectionType = literals(["ssh", "local", "proxmox"], { description: "How to reach the host (default ssh)." });
const vmDoc =
  "This host is the guest of a VM under vms: its address is read from the guest agent and its SSH host key is pinned from it.";

/** Connection fields: at top level and in groups under `connection:`, directly on hosts. */
const connectionFields = {
  type: Type.Optional(ConnectionType),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  user: Type.Optional(Type.String({ minLength: 1 })),
  key_file: Type.Optional(Type.String({ description: "Private key; absent: ssh-agent ($SSH_AUTH_SOCK)." })),
  known_hosts: Type.Optional(
    Type.String({ description: "known_hosts file used for strict host-key checking (default ~/.ssh/known_hosts)." }),
  ),
  become: Type.Optional(Type.Boolean({ description: "Run commands through sudo -n when not root." })),
  bastion: Type.Optional(Type.String({ description: "Name of a host in the inventory to jump through." })),
  connect_timeout: Type.Optional(Type.Integer({ minimum: 1, description: "Seconds (default 10)." })),
  vm: Type.Optional(Type.String({ description: vmDoc })),
};

export const Connection = Type.Object(connectionFields, closed);
export type Connection = Static<typeof Connection>;

export const Group = Type.Object(
  {
    hosts: Type.Optional(Type.Array(Name, { uniqueItems: true })),
    children: Type.Optional(Type.Array(Name, { uniqueItems: true })),
    vars: Type.Optional(Vars),
    connection: Type.Optional(Connection),
  },
  closed,
);
export type Group = Static<typeof Group>;

const { type: hostType, vm: hostVm, ...hostConnection } = connectionFields;
export const Host = Type.Object(
  {
    address: Type.Optional(Type.String({ minLength: 1, description: "IP or DNS name (default: the host name)." })),
    ...hostConnection,
    type: hostType,
    vars: Type.Optional(Vars),
    vm: hostVm,
  },
  closed,
);
export type Host = Static<typeof Host>;

export const PveEndpoint = Type.Object(
  {
    url: Type.String({ pattern: "^https://", description: "API base, e.g. https://pve1.home.arpa:8006 (https only)." }),
    node: Type.String({
      description: "Node that templates live on by default (and VMs, on a one-node endpoint); lab's API calls go here.",
    }),
    nodes: Type.Optional(
      Type.Array(Type.String({ pattern: "^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$" }), {
        minItems: 1,
        uniqueItems: true,
        description:
          "A cluster: the nodes lab may put VMs on (node among them; default [node]). Each gets the VLAN bridge; a VM without node: is placed round-robin over them at creation.",
      }),
    ),
    token_id: Type.String({
      pattern: "^[^@!\\s]+@[^@!\\s]+![A-Za-z][A-Za-z0-9._-]*$",
      description: "API token id: user@realm!name (see README: least-privilege role).",
    }),
    token_secret: Type.String({ description: "Name of the secret (secrets.age) holding the token's UUID." }),
    fingerprint: Type.Optional(
      Type.String({
        pattern: "^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$",
        description: "SHA-256 fingerprint of the API certificate to pin.",
      }),
    ),
    ca_file: Type.Optional(
      Type.String({
        description: "CA certificate (PEM) to verify the API certificate against, instead of a fingerprint.",
      }),
    ),
    storage: Type.Optional(Type.String({ description: "Storage for VM disks (default local-lvm)." })),
    image_storage: Type.Optional(
      Type.String({ description: "Storage for downloaded cloud images, content type import (default local)." }),
    ),
    bridge: Type.Optional(Type.String({ description: "VLAN-aware bridge that carries the VLANs (default vmbr0)." })),
    bridge_ports: Type.Optional(Type.String({ description: "Physical port(s) of the bridge, e.g. eno1." })),
    sdn_zone: Type.Optional(
      Type.String({ pattern: "^[a-z][a-z0-9]{0,7}$", description: "SDN VLAN zone id (default lab)." }),
    ),
    vmid_range: Type.Optional(
      Type.Object(
        {
          min: Type.Integer({ minimum: 100 }),
          max: Type.Integer({ maximum: 999999999 }),
        },
        { ...closed, description: "VMIDs lab may allocate (default 100-999999)." },
      ),
    ),
    task_timeout: Type.Optional(
      Type.Integer({ minimum: 1, description: "Seconds to wait for a Proxmox task (default 600)." }),
    ),
  },
  closed,
);
export type PveEndpoint = Static<typeof PveEndpoint>;

export const PbsEndpoint = Type.Object(
  {
    url: Type.String({
      pattern: "^https://",
      description: "PBS API base, e.g. https://pbs1.home.arpa:8007 (https only).",
    }),
    token_id: Type.String({
      pattern: "^[^@!\\s]+@[^@!\\s]+![A-Za-z][A-Za-z0-9._-]*$",
      description: "API token lab manages jobs with: user@realm!name (README: least-privilege PBS role).",
    }),
    token_secret: Type.String({ description: "Name of the secret (secrets.age) holding the token's secret." }),
    fingerprint: Type.Optional(
      Type.String({
        pattern: "^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$",
        description: "SHA-256 fingerprint of the PBS certificate: pinned by lab and by Proxmox's pbs storage.",
      }),
    ),
    ca_file: Type.Optional(
      Type.String({
        description:
          "CA certificate (PEM) for lab's own API calls, instead of a fingerprint (Proxmox still needs the fingerprint).",
      }),
    ),
    backup_token_id: Type.Optional(
      Type.String({
        pattern: "^[^@!\\s]+@[^@!\\s]+![A-Za-z][A-Za-z0-9._-]*$",
        description:
          "Token Proxmox's pbs storage logs in with (DatastorePowerUser: back up, restore, prune its own); default token_id.",
      }),
    ),
    backup_token_secret: Type.Optional(Type.String({ description: "Secret name of backup_token_id." })),
    datastores: Type.Optional(
      Type.Record(
        Type.String({ pattern: "^[A-Za-z0-9_][A-Za-z0-9._-]*$" }),
        Type.Object(
          {
            path: Type.String({ pattern: "^/", description: "Absolute path on the PBS (a mounted disk)." }),
          },
          closed,
        ),
        {
          description:
            "Datastores lab creates when missing (the policy's datastore and offsite copy); never moved or removed.",
        },
      ),
    ),
  },
  closed,
);
export type PbsEndpoint = Static<typeof PbsEndpoint>;

export const Vlan = Type.Object(
  {
    tag: Type.Integer({ minimum: 1, maximum: 4094 }),
    subnet: Type.String({ pattern: "^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$" }),
    gateway: Type.Optional(Type.String({ pattern: "^\\d{1,3}(\\.\\d{1,3}){3}$" })),
    vnet: Type.Optional(
      Type.String({
        pattern: "^[a-z][a-z0-9]{0,7}$",
        description: "SDN VNet id (default: the VLAN name, lowercased).",
      }),
    ),
    deny_to: Type.Optional(
      Type.Array(Type.String(), {
        uniqueItems: true,
        description: "VLANs that guests on this VLAN may not reach (firewall).",
      }),
    ),
    isolated: Type.Optional(
      Type.Boolean({ description: "May reach no other VLAN (firewall) and no other port on the VNet." }),
    ),
    comment: Type.Optional(Type.String()),
  },
  closed,
);
export type Vlan = Static<typeof Vlan>;

/** PVE's guest OS types (ostype), also checked by the template resource. */
export const OS_TYPES = [
  "other",
  "wxp",
  "w2k",
  "w2k3",
  "w2k8",
  "wvista",
  "win7",
  "win8",
  "win10",
  "win11",
  "l24",
  "l26",
  "solaris",
] as const;

export const VmTemplate = Type.Object(
  {
    endpoint: Type.String({ description: "Name under proxmox:." }),
    image_url: Type.String({ pattern: "^https?://" }),
    checksum: Type.String({
      pattern: "^sha(256|512):[0-9a-f]+$",
      description: "sha256:HEX of the image; a new checksum builds a new template version.",
    }),
    vmid: Type.Integer({ minimum: 100 }),
    node: Type.Optional(
      Type.String({
        description: "Node the template is built on (default the endpoint's node); one per node: one template each.",
      }),
    ),
    storage: Type.Optional(
      Type.String({
        description:
          "Storage of the template's disks (default the endpoint's storage). Shared storage lets VMs on every node clone it (clone target).",
      }),
    ),
    cores: Type.Optional(Type.Integer({ minimum: 1 })),
    memory: Type.Optional(Type.Integer({ minimum: 64, description: "MiB" })),
    os_type: Type.Optional(literals(OS_TYPES, { description: "Guest OS type (PVE ostype; default l26)." })),
  },
  closed,
);
export type VmTemplate = Static<typeof VmTemplate>;

export const Vm = Type.Object(
  {
    template: Type.String({ description: "Name under templates:." }),
    vmid: Type.Optional(
      Type.Integer({
        minimum: 100,
        description: "Fixed VMID; default: the next free one in the endpoint's vmid_range.",
      }),
    ),
    node: Type.Optional(
      Type.String({
        description:
          "Cluster node the VM lives on (one of the endpoint's nodes). Changing it migrates the VM (online when running). Without it: placed round-robin at creation, never moved.",
      }),
    ),
    clone: Type.Optional(literals(["linked", "full"], { description: "default linked" })),
    cores: Type.Optional(Type.Integer({ minimum: 1 })),
    memory: Type.Optional(Type.Integer({ minimum: 64, description: "MiB" })),
    disk: Type.Optional(Type.Integer({ minimum: 1, description: "GiB of the boot disk (grown, never shrunk)." })),
    vlan: Type.String({ description: "VLAN of net0 (a name under vlans:)." }),
    extra_vlans: Type.Optional(Type.Array(Type.String(), { description: "VLANs of net1, net2, ..." })),
    ip: Type.Optional(Type.String({ description: "dhcp, or CIDR like 10.0.10.21/24 (gateway from the VLAN)." })),
    user: Type.Optional(Type.String({ description: "cloud-init user (default lab)." })),
    ssh_keys: Type.Optional(
      Type.Array(Type.String(), {
        description: "Public keys (lines) or files ending in .pub (read when the inventory is loaded).",
      }),
    ),
    tags: Type.Optional(Type.Array(Type.String({ pattern: "^[a-z0-9_][a-z0-9_.+-]*$" }))),
    description: Type.Optional(Type.String()),
    started: Type.Optional(Type.Boolean({ description: "default true" })),
    stateful: Type.Optional(
      Type.Boolean({ description: "Holds data: `lab plan` fails unless a target in backups/policy.yaml covers it." }),
    ),
  },
  closed,
);
export type Vm = Static<typeof Vm>;

/** The lab's sections besides hosts/groups: merged across files by name. Add a section here (see the top of the file). */
export const labSections = {
  proxmox: named(
    PveEndpoint,
    'Proxmox VE endpoints by name. Each is also a host (connection type proxmox) in group "proxmox".',
  ),
  pbs: named(PbsEndpoint, "Proxmox Backup Server endpoints by name (backups/policy.yaml's VM targets name one)."),
  vlans: named(Vlan, "VLANs by name (Trusted, IoT, Guest, Lab)."),
  templates: named(VmTemplate, "VM templates by name: cloud image -> VM -> template."),
  vms: named(Vm, "VMs cloned from templates, by name (the VM name in Proxmox)."),
};
export type SectionName = keyof typeof labSections;
export const sectionNames = Object.keys(labSections) as SectionName[];

/** The typed lab sections of a whole inventory (every section present, possibly empty). */
export type LabModel = { readonly [K in SectionName]: Readonly<Static<(typeof labSections)[K]>> };

export const InventoryFile = Type.Object(
  {
    connection: Type.Optional(
      Type.Object(connectionFields, { ...closed, description: "Connection defaults for every host." }),
    ),
    vars: Type.Optional(
      Type.Unsafe<Record<string, unknown>>({ type: "object", description: "Vars for every host (lowest precedence)." }),
    ),
    groups: Type.Optional(
      named(Group, "Groups by name. A group lists hosts and child groups; its vars apply to all of them."),
    ),
    hosts: Type.Optional(named(Host, "Hosts by name.")),
    ...(Object.fromEntries(sectionNames.map((s) => [s, Type.Optional(labSections[s])])) as {
      [K in SectionName]: TOptional<(typeof labSections)[K]>;
    }),
  },
  {
    ...closed,
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://lab.invalid/inventory/schema.json",
    title: "lab inventory file",
    description:
      "One file of a lab inventory (inventory/*.yaml). Files are merged; a host or group defined twice is an error. Generated from src/inventory/model.ts (npm run gen:schema).",
  },
);
export type InventoryFile = Static<typeof InventoryFile>;

/** inventory/schema.json's text. */
export const inventorySchemaJson = (): string =>
  `${JSON.stringify({ $schema: InventoryFile.$schema, $id: InventoryFile.$id, title: InventoryFile.title, ...InventoryFile }, null, 2)}\n`;
