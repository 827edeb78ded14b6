// Named value formats of the PVE JSON schema (pve-common PVE::JSONSchema and
// friends). Each checker returns the error text real PVE would put after
// "invalid format - ", or undefined when the value is fine. Formats not listed
// here are accepted unchecked: the schema dump names them but does not define them.
import { isIPv4, isIPv6 } from "node:net";

type Check = (value: string) => string | undefined;

const re =
  (regex: RegExp, message: (v: string) => string): Check =>
  (v) =>
    regex.test(v) ? undefined : message(v);

const ID_RE = /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i;
const VOLID_RE = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i;

const cidr = (v: string, ip: (a: string) => boolean, min: number, max: number): boolean => {
  const m = /^([^/]+)\/(\d+)$/.exec(v);
  return !!m && ip(m[1]!) && Number(m[2]) >= min && Number(m[2]) <= max;
};
const cidr4 = (v: string): boolean => cidr(v, isIPv4, 8, 32);
const cidr6 = (v: string): boolean => cidr(v, isIPv6, 8, 128);
const dnsName = (v: string): boolean =>
  /^(([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)\.)*([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)$/.test(v);

const MASKS = new Set(
  Array.from({ length: 33 }, (_, bits) => {
    const n = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
  }),
);

/** Ranges of `pve-vlan-id-or-range`: 2-4094, "a-b" with a < b. */
const vlanRange: Check = (v) => {
  const m = /^(\d+)(?:-(\d+))?$/.exec(v);
  if (!m) return `invalid VLAN configuration '${v}'\n`;
  for (const tag of [m[1], m[2]].filter((t): t is string => t !== undefined)) {
    if (Number(tag) < 2 || Number(tag) > 4094) return `invalid VLAN tag '${tag}'\n`;
  }
  if (m[2] !== undefined && Number(m[1]) >= Number(m[2])) return `VLAN range must go from lower to higher tag '${v}'\n`;
  return undefined;
};

/** systemd-like calendar events (`pve-calendar-event`): `[weekdays] [date] [time]` or a named interval. */
const calendarEvent: Check = (v) => {
  const named = /^(minutely|hourly|daily|weekly|monthly|yearly|annually|quarterly|semiannually)$/;
  const day = "(mon|tue|wed|thu|fri|sat|sun)[a-z]*";
  const weekdays = new RegExp(`^${day}((\\.\\.|,)${day})*$`, "i");
  const numbers = /^[0-9*][0-9*.,/:~-]*$/;
  const words = v.trim().split(/\s+/);
  const ok =
    named.test(v.trim()) ||
    (words.length <= 3 && words.every((w, i) => numbers.test(w) || (i === 0 && weekdays.test(w))));
  return v.trim() !== "" && ok ? undefined : `unable to parse calendar event '${v}'\n`;
};

const volumeOrPath: Check = (v) =>
  v === "none" || v === "cdrom" || v.startsWith("/") || VOLID_RE.test(v)
    ? undefined
    : `unable to parse volume ID '${v}'\n`;

// Firewall address specs (pve-firewall PVE::Firewall: $ip_alias_pattern, $ipset_name_pattern, parse_address_list).
const FW_NAME = "[A-Za-z][A-Za-z0-9\\-_]+";
const FW_ALIAS = new RegExp(`^(?:(?:dc|guest)/)?${FW_NAME}$`);
const FW_IPSET = new RegExp(`^\\+(?:(?:dc|guest|sdn)/)?${FW_NAME}$`);
const ipOrCidr = (v: string): boolean => isIPv4(v) || isIPv6(v) || cidr(v, isIPv4, 0, 32) || cidr(v, isIPv6, 0, 128);
const family = (v: string): 4 | 6 => (v.includes(":") ? 6 : 4);

const fwAddrSpec: Check = (v) => {
  if (FW_IPSET.test(v) || FW_ALIAS.test(v)) return undefined;
  const families = new Set<number>();
  for (const elem of v.split(",")) {
    const range = /^([^-]+)-([^-]+)$/.exec(elem);
    const ok = range
      ? (isIPv4(range[1]!) && isIPv4(range[2]!)) || (isIPv6(range[1]!) && isIPv6(range[2]!))
      : ipOrCidr(elem);
    if (!ok) return `invalid address spec '${elem}'\n`;
    families.add(family(elem));
  }
  return families.size > 1 ? "you can't mix ipv4 and ipv6 addresses in the same list\n" : undefined;
};

/** qemu-server's boot devices (`order=scsi0;net0`). */
const BOOT_DEVICE = /^((ide|sata|scsi|virtio|net|hostpci|usb)\d+|efidisk0|tpmstate0)$/;

/** Hash formats registered by name (their keys are not in the schema dump). */
export const NAMED_PROPERTY_FORMATS: Record<string, Record<string, Record<string, unknown>>> = {
  "pve-qm-boot": {
    legacy: { type: "string", pattern: "[acdn]{1,4}", default_key: 1, optional: 1 },
    order: { type: "string", format: "pve-qm-bootdev-list", optional: 1 },
  },
  "pve-qm-ipconfig": {
    ip: { type: "string", format: "pve-ipv4-config", optional: 1 },
    gw: { type: "string", format: "ipv4", optional: 1 },
    ip6: { type: "string", format: "pve-ipv6-config", optional: 1 },
    gw6: { type: "string", format: "ipv6", optional: 1 },
  },
  "prune-backups": Object.fromEntries<Record<string, unknown>>([
    ["keep-all", { type: "boolean", optional: 1 }],
    ...["last", "hourly", "daily", "weekly", "monthly", "yearly"].map((k): [string, Record<string, unknown>] => [
      `keep-${k}`,
      { type: "integer", minimum: 1, optional: 1 },
    ]),
  ]),
};

export const FORMATS: Record<string, Check> = {
  "pve-vmid": re(/^[1-9][0-9]{2,8}$/, () => "value does not look like a valid VM ID\n"),
  "pve-node": re(/^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)$/, () => "value does not look like a valid node name\n"),
  "pve-storage-id": re(ID_RE, (v) => `storage ID '${v}' contains illegal characters\n`),
  "pve-configid": re(/^[a-z][a-z0-9_-]+$/i, (v) => `invalid configuration ID '${v}'\n`),
  "pve-bridge-id": re(/^[-_.\w\d]+$/, (v) => `invalid bridge ID '${v}'\n`),
  "pve-iface": re(/^[a-z][a-z0-9_]{1,20}([:.]\d+)?$/i, (v) => `invalid network interface name '${v}'\n`),
  "pve-poolid": re(/^[A-Za-z0-9_\-/]+$/, (v) => `invalid pool ID '${v}'\n`),
  "pve-realm": re(/^[A-Za-z][A-Za-z0-9.\-_]+$/, (v) => `invalid realm '${v}'\n`),
  "pve-userid": re(/^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+$/, (v) => `value '${v}' does not look like a valid user name\n`),
  "pve-sdn-zone-id": re(/^[a-z][a-z0-9]{0,6}[a-z0-9]$/i, (v) => `zone ID '${v}' contains illegal characters\n`),
  "pve-sdn-vnet-id": re(/^[a-z][a-z0-9]{0,6}[a-z0-9]$/i, (v) => `vnet ID '${v}' contains illegal characters\n`),
  "pve-tag": re(/^[a-z0-9_][a-z0-9_\-+.]*$/i, () => "invalid characters in tag\n"),
  "pve-volume-id": re(VOLID_RE, (v) => `unable to parse volume ID '${v}'\n`),
  "pve-volume-id-or-qm-path": volumeOrPath,
  "pve-volume-id-or-absolute-path": volumeOrPath,
  "pve-storage-content": re(
    /^(images|rootdir|vztmpl|iso|backup|snippets|import)$/,
    (v) => `invalid content type '${v}'\n`,
  ),
  "pve-vlan-id-or-range": vlanRange,
  "pve-calendar-event": calendarEvent,
  "pve-startup-order": re(/^(((order=)?\d+|up=\d+|down=\d+)(,|$))+$/, () => "unable to parse startup options\n"),
  "mac-addr": re(
    /^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$/i,
    () => "value does not look like a valid unicast MAC address\n",
  ),
  urlencoded: re(/^[-%a-zA-Z0-9_.!~*'()]*$/, (v) => `invalid urlencoded string: ${v}\n`),
  "disk-size": re(/^\d+(\.\d+)?[KMGT]?$/, (v) => `value does not look like a valid disk size: ${v}\n`),
  ipv4: (v) => (isIPv4(v) ? undefined : "value does not look like a valid IPv4 address\n"),
  ipv6: (v) => (isIPv6(v) ? undefined : "value does not look like a valid IPv6 address\n"),
  ip: (v) => (isIPv4(v) || isIPv6(v) ? undefined : "value does not look like a valid IP address\n"),
  address: (v) =>
    isIPv4(v) || isIPv6(v) || dnsName(v) ? undefined : `value does not look like a valid address: ${v}\n`,
  ipv4mask: (v) => (MASKS.has(v) ? undefined : "value does not look like a valid IP netmask\n"),
  CIDRv4: (v) => (cidr4(v) ? undefined : "value does not look like a valid IPv4 CIDR network\n"),
  CIDRv6: (v) => (cidr6(v) ? undefined : "value does not look like a valid IPv6 CIDR network\n"),
  CIDR: (v) => (cidr4(v) || cidr6(v) ? undefined : "value does not look like a valid CIDR network\n"),
  "pve-ipv4-config": (v) =>
    /^(dhcp|manual)$/.test(v) || cidr4(v) ? undefined : "value does not look like a valid ipv4 network configuration\n",
  "pve-ipv6-config": (v) =>
    /^(auto|dhcp|manual)$/.test(v) || cidr6(v)
      ? undefined
      : "value does not look like a valid ipv6 network configuration\n",
  "dns-name": (v) => (dnsName(v) ? undefined : "value does not look like a valid DNS name\n"),
  "pve-qm-bootdev": (v) => (BOOT_DEVICE.test(v) ? undefined : `invalid boot device '${v}'\n`),
  "pve-fw-addr-spec": fwAddrSpec,
  IPorCIDR: (v) => (ipOrCidr(v) ? undefined : "value does not look like a valid IP address or CIDR network\n"),
  IPorCIDRorAlias: (v) =>
    ipOrCidr(v) || FW_ALIAS.test(v) ? undefined : "value does not look like a valid IP address or CIDR network\n",
  // pve-storage: pve_verify_ip or pve_verify_dns_name.
  "pve-storage-server": (v) =>
    isIPv4(v) || isIPv6(v) || dnsName(v) ? undefined : `value does not look like a valid server name or IP address\n`,
};

/** A scalar parameter value as text (objects never reach scalar checks; JSON for safety). */
export const scalarText = (v: unknown): string =>
  typeof v === "string"
    ? v
    : typeof v === "number" || typeof v === "boolean" || typeof v === "bigint"
      ? String(v)
      : (JSON.stringify(v) ?? "");

/** PVE::Tools::split_list: the separators of every `-list` format. */
export const splitList = (v: string): string[] => v.split(/[ ,;\0]+/).filter((s) => s !== "");
