// Node network (/etc/network/interfaces): changes are staged in
// interfaces.new, listed with a `changes` diff, applied with PUT (a reload
// task) or dropped with DELETE, as on PVE.
import { createTwoFilesPatch } from "diff";
import type { Call, Routes } from "../context.ts";
import { deleteList, need, node, settings, str } from "../context.ts";
import { paramError } from "../errors.ts";
import { Envelope } from "../http.ts";
import type { Item } from "../state.ts";

type Ifaces = Record<string, Item>;

const netState = (c: Call): { active: Ifaces; staged: Ifaces | null } => c.sim.state.network[node(c)]!;
/** The config being edited: interfaces.new when it exists. */
const editable = (c: Call): Ifaces => {
  const net = netState(c);
  return (net.staged ??= structuredClone(net.active));
};

const BRIDGE_TYPES: Record<string, readonly string[]> = {
  any_bridge: ["bridge", "OVSBridge"],
  any_local_bridge: ["bridge", "OVSBridge"],
};

function list(c: Call): Envelope {
  const net = netState(c);
  const view = net.staged ?? net.active;
  const type = str(c, "type");
  const types = type ? (BRIDGE_TYPES[type] ?? [type]) : undefined;
  const items = Object.values(view)
    .filter((i) => i.type !== "loopback" && (!types || types.includes(String(i.type))))
    .map(({ active: _was, ...rest }) => (net.active[String(rest.iface)] ? { ...rest, active: 1 } : rest));
  const changes = net.staged ? diff(net.active, net.staged) : undefined;
  return new Envelope(items, changes ? { changes } : {});
}

function render(ifaces: Ifaces): string {
  const block = (i: Item): string => {
    const name = String(i.iface);
    const lines = [`${i.autostart ? `auto ${name}\n` : ""}iface ${name} inet ${String(i.method ?? "manual")}`];
    const opt = (key: string, value: Item[string] | undefined): void =>
      void (value !== undefined && value !== "" && lines.push(`\t${key} ${String(value)}`));
    opt("address", i.cidr);
    opt("gateway", i.gateway);
    opt("bridge-ports", i.type === "bridge" ? i.bridge_ports || "none" : undefined);
    opt("bridge-stp", i.bridge_stp);
    opt("bridge-fd", i.bridge_fd);
    opt("bridge-vlan-aware", i.bridge_vlan_aware ? "yes" : undefined);
    opt("bridge-vids", i.bridge_vlan_aware ? (i.bridge_vids ?? "2-4094") : undefined);
    opt("vlan-id", i["vlan-id"]);
    opt("vlan-raw-device", i["vlan-raw-device"]);
    opt("mtu", i.mtu);
    if (i.comments) lines.push(`#${String(i.comments).trim()}`);
    return lines.join("\n");
  };
  return `${Object.values(ifaces).map(block).join("\n\n")}\n`;
}

const diff = (active: Ifaces, staged: Ifaces): string | undefined => {
  const before = render(active);
  const after = render(staged);
  return before === after
    ? undefined
    : createTwoFilesPatch("/etc/network/interfaces", "/etc/network/interfaces.new", before, after, "", "");
};

/** Values of a create/update call, normalised as PVE stores them (cidr <-> address/netmask, method). */
function ifaceValues(c: Call, ifaces: Ifaces, iface: string): Item {
  const values: Item = settings(c, ["node", "iface"], ["delete"]);
  for (const k of ["autostart", "bridge_vlan_aware", "vlan-id", "mtu"]) if (k in values) values[k] = Number(values[k]);
  if (typeof values.cidr === "string") {
    const [address, bits] = values.cidr.split("/");
    Object.assign(values, { address: address!, netmask: bits! });
  }
  if (values.gateway) {
    const other = Object.values(ifaces).find((i) => i.gateway && i.iface !== iface);
    if (other) throw paramError({ gateway: `Default gateway already exists on interface '${String(other.iface)}'.` });
  }
  for (const port of String(values.bridge_ports ?? "")
    .split(/[\s,]+/)
    .filter(Boolean)) {
    if (!ifaces[port]) throw paramError({ bridge_ports: `unable to find bridge port '${port}'` });
  }
  return values;
}

function create(c: Call): null {
  const ifaces = editable(c);
  const iface = need(c, "iface");
  if (ifaces[iface]) throw paramError({ iface: "interface already exists" });
  const values = ifaceValues(c, ifaces, iface);
  const bridge: Item = values.type === "bridge" ? { bridge_stp: "off", bridge_fd: "0" } : {};
  ifaces[iface] = {
    iface,
    ...bridge,
    method: values.cidr ? "static" : "manual",
    method6: "manual",
    families: ["inet"],
    priority: Object.keys(ifaces).length + 1,
    ...values,
  };
  return null;
}

function existing(c: Call, ifaces: Ifaces): Item {
  const found = ifaces[need(c, "iface")];
  if (!found) throw paramError({ iface: "interface does not exist" });
  return found;
}

function update(c: Call): null {
  const ifaces = editable(c);
  const item = existing(c, ifaces);
  for (const key of deleteList(c)) delete item[key];
  if (deleteList(c).includes("cidr")) {
    delete item.address;
    delete item.netmask;
  }
  Object.assign(item, ifaceValues(c, ifaces, need(c, "iface")));
  item.method = item.cidr ? "static" : "manual";
  return null;
}

export const networkRoutes: Routes = {
  "GET /nodes/{node}/network": list,
  "POST /nodes/{node}/network": create,
  "GET /nodes/{node}/network/{iface}": (c) => {
    const net = netState(c);
    return existing(c, net.staged ?? net.active);
  },
  "PUT /nodes/{node}/network/{iface}": update,
  "DELETE /nodes/{node}/network/{iface}": (c) => {
    const ifaces = editable(c);
    existing(c, ifaces);
    delete ifaces[need(c, "iface")];
    return null;
  },
  "PUT /nodes/{node}/network": (c) => {
    const n = node(c);
    return c.sim.tasks.start({ node: n, type: "srvreload", id: "networking", auth: c.auth }, async (t) => {
      await t.step();
      const net = c.sim.state.network[n]!;
      if (net.staged) net.active = net.staged;
      net.staged = null;
      t.log("reloading network config ...");
    });
  },
  "DELETE /nodes/{node}/network": (c) => ((netState(c).staged = null), null),
};
