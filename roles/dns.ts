// dns: the lab's names served by dnsmasq (Debian's package) on one host: an A and
// a PTR record for every host and every VM of the inventory, in the lab's domain.
// A VM's address is the one its guest agent reports (read over the pinned Proxmox
// API when the host is read, so a VM an earlier play of the same run creates gets
// its record in that run); a host's is its inventory address. Each VLAN subnet is
// a local reverse zone: lookups in it are answered here and never forwarded.
import {
  Type,
  defineRole,
  directory,
  packages,
  restartService,
  service,
  type HostInfo,
  type Static,
  badInput,
  type LabModel,
  vmIpv4,
  file,
  lateFile,
} from "lab";
import { resolveSources, type AddressSource } from "./vm-addresses.ts";

const IPV4 = "^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$";
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const DnsVars = Type.Object(
  {
    /** The lab's DNS domain: every record is NAME.<domain>. */
    domain: Type.String({
      pattern: "^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$",
      description: "The lab's DNS domain: every record is NAME.<domain>.",
    }),
    /** The address dnsmasq answers on (port 53, UDP and TCP); it binds nothing else. */
    listenAddress: Type.String({
      pattern: IPV4,
      description: "The address dnsmasq answers on (port 53, UDP and TCP); it binds nothing else.",
    }),
    /** Resolvers for every other name; none: only the lab's names are answered. */
    upstream: Type.Optional(
      Type.Array(Type.String({ pattern: IPV4 }), {
        default: [],
        description: "Resolvers for every other name; none: only the lab's names are answered.",
      }),
    ),
    /** More names (NAME -> IPv4), e.g. the router or the Proxmox node's management address. */
    records: Type.Optional(
      Type.Record(Type.String({ pattern: LABEL.source }), Type.String({ pattern: IPV4 }), {
        description: "More names (NAME -> IPv4), e.g. the router.",
      }),
    ),
    /** Inventory hosts and VMs that get no record. */
    exclude: Type.Optional(
      Type.Array(Type.String(), { default: [], description: "Inventory hosts and VMs that get no record." }),
    ),
    /** TTL of the lab's records, seconds. */
    ttl: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 86400, default: 300, description: "TTL of the lab's records, seconds." }),
    ),
  },
  { additionalProperties: false },
);
export type DnsVars = Static<typeof DnsVars>;

export const DNSMASQ_CONF = "/etc/dnsmasq.d/lab.conf";
export const RECORDS_FILE = "/etc/lab-dns/hosts";

/** A record whose address is known now, or one whose address the VM's guest agent gives when the host is read. */
export type DnsSource = AddressSource;

const isIpv4 = (s: string) => new RegExp(IPV4).test(s);

/** Every record the inventory implies, by name: hosts with an IPv4 address, hosts that are VM guests, VMs, the extra records. */
export function dnsSources(v: DnsVars, hosts: Iterable<HostInfo>, lab: LabModel): DnsSource[] {
  const exclude = new Set(v.exclude ?? []);
  const out = new Map<string, DnsSource>();
  const add = (s: DnsSource) => {
    if (exclude.has(s.name) || out.has(s.name)) return;
    if (!LABEL.test(s.name))
      throw badInput(
        `role dns: "${s.name}" is not a DNS name (lowercase letters, digits and -, at most 63)`,
        {},
        `rename it, or leave it out with the dns role's exclude: ["${s.name}"]`,
      );
    out.set(s.name, s);
  };
  for (const [name, address] of Object.entries(v.records ?? {})) add({ name, address });
  for (const h of hosts) {
    if (h.connection.vm) add({ name: h.name, vm: h.connection.vm });
    else if (isIpv4(h.connection.address)) add({ name: h.name, address: h.connection.address });
  }
  for (const vm of Object.keys(lab.vms)) add({ name: vm, vm });
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The reverse zone of a subnet (rounded out to whole octets: 10.0.40.0/25 -> 40.0.10.in-addr.arpa). */
export function reverseZone(subnet: string): string {
  const [net = "", bits = "0"] = subnet.split("/");
  const octets = Math.max(1, Math.floor(Number(bits) / 8));
  return `${net.split(".").slice(0, octets).reverse().join(".")}.in-addr.arpa`;
}

export function dnsmasqConf(v: DnsVars, lab: LabModel): string {
  const zones = [...new Set(Object.values(lab.vlans).map((x) => reverseZone(x.subnet)))].sort();
  const upstream = v.upstream ?? [];
  return [
    `# Managed by lab (role dns): the lab's names in ${v.domain}. Local changes are reverted.`,
    `listen-address=${v.listenAddress}`,
    "bind-interfaces",
    // The records are ours alone: not this host's /etc/hosts, not /etc/resolv.conf's servers.
    "no-hosts",
    `addn-hosts=${RECORDS_FILE}`,
    `domain=${v.domain}`,
    `local=/${v.domain}/`,
    ...zones.map((z) => `local=/${z}/`),
    "domain-needed",
    "bogus-priv",
    `local-ttl=${v.ttl ?? 300}`,
    "no-resolv",
    ...upstream.map((s) => `server=${s}`),
    "",
  ].join("\n");
}

/**
 * The records file (hosts format: dnsmasq answers A and PTR from it), one line per
 * address with every name it has; the reverse (PTR) answer is the line's first
 * name, the alphabetically first (a VM "wiki" before its guest host "wiki-guest").
 */
export function dnsRecords(
  v: DnsVars,
  resolved: readonly { name: string; address: string }[],
  notYet: readonly string[] = [],
): string {
  const byAddress = new Map<string, string[]>();
  for (const r of resolved) byAddress.set(r.address, [...(byAddress.get(r.address) ?? []), r.name]);
  const lines = [...byAddress]
    .map(([address, names]) => [address, names.sort()] as const)
    .sort(([, a], [, b]) => a[0]!.localeCompare(b[0]!));
  return [
    "# Managed by lab (role dns): A and PTR records of the inventory's hosts and VMs.",
    ...lines.map(([address, names]) => [address, ...names.flatMap((n) => [`${n}.${v.domain}`, n])].join("\t")),
    ...[...notYet].sort().map((n) => `# ${n}: no record yet, its VM does not exist (the next apply adds it)`),
    "",
  ].join("\n");
}

export const dns = defineRole({
  name: "dns",
  vars: DnsVars,
  resources: (v, _host, tools) => {
    const sources = dnsSources(v, tools.hosts.values(), tools.lab);
    const notify = { notify: ["restart dnsmasq"] };
    return {
      resources: [
        packages({ names: ["dnsmasq"] }),
        directory({ path: "/etc/lab-dns", mode: "0755" }),
        file({ path: DNSMASQ_CONF, content: dnsmasqConf(v, tools.lab), mode: "0644" }, notify),
        lateFile(
          { path: RECORDS_FILE, mode: "0644" },
          async (ctx) => {
            const { resolved, notYet } = await resolveSources(sources, (vm) => vmIpv4(ctx, tools, vm));
            return dnsRecords(v, resolved, notYet);
          },
          notify,
        ),
        service({ name: "dnsmasq", state: "started", enabled: true }),
      ],
      handlers: [restartService("dnsmasq")],
    };
  },
});
