// SDN zones and vnets: edits go to the config (pending), PUT /cluster/sdn
// applies them cluster-wide (reloadnetworkall). VLAN zones want a unique tag per vnet.
import type { Call, Routes } from "../context.ts";
import { deleteList, flag, need, settings, str } from "../context.ts";
import { fail, paramError } from "../errors.ts";
import { checkPrivs } from "../permissions.ts";
import type { Item, SdnConfig } from "../state.ts";

type Kind = "zones" | "vnets";
const ID: Record<Kind, "zone" | "vnet"> = { zones: "zone", vnets: "vnet" };
const CONTROL = ["lock-token", "digest", "delete"];

const same = (a: Item | undefined, b: Item | undefined): boolean => JSON.stringify(a) === JSON.stringify(b);

/** One object as GET shows it: config values, or with `pending=1` running values + pending diff + state. */
function view(c: Call, kind: Kind, id: string): Item | Record<string, unknown> | undefined {
  const { config, running } = c.sim.state.sdn;
  if (flag(c, "running")) return running[kind][id] && { ...running[kind][id], [ID[kind]]: id };
  const cur = config[kind][id];
  const was = running[kind][id];
  if (!flag(c, "pending")) return cur && { ...cur, [ID[kind]]: id };
  if (!cur && !was) return undefined;
  if (!cur) return { ...was, [ID[kind]]: id, state: "deleted" };
  if (same(cur, was)) return { ...cur, [ID[kind]]: id };
  // PVE::Network::SDN::pending_config: `type` and the id stay top-level; a key dropped from the config is pending 'deleted'.
  const changed: Item = Object.fromEntries(
    Object.entries(cur).filter(([k, v]) => k !== "type" && JSON.stringify(was?.[k]) !== JSON.stringify(v)),
  );
  for (const k of Object.keys(was ?? {})) if (!(k in cur)) changed[k] = "deleted";
  return { ...(was ?? {}), type: cur.type!, [ID[kind]]: id, state: was ? "changed" : "new", pending: changed };
}

function list(kind: Kind) {
  return (c: Call): unknown[] => {
    const { config, running } = c.sim.state.sdn;
    const ids = new Set([
      ...Object.keys(config[kind]),
      ...(flag(c, "pending") || flag(c, "running") ? Object.keys(running[kind]) : []),
    ]);
    const type = str(c, "type");
    return [...ids]
      .sort()
      .map((id) => view(c, kind, id))
      .filter((v) => v && (!type || v.type === type));
  };
}

function get(kind: Kind) {
  return (c: Call): unknown => {
    const found = view(c, kind, need(c, ID[kind]));
    if (!found) throw fail(`sdn ${ID[kind]} '${need(c, ID[kind])}' does not exist`);
    return found;
  };
}

/** VLAN zones: a tag in 1..4094, unique within the zone. */
function checkVnet(config: SdnConfig, vnet: string, values: Item): void {
  const zone = config.zones[String(values.zone)];
  if (!zone) throw fail(`zone '${String(values.zone)}' doesn't exist`);
  if (zone.type !== "vlan" && zone.type !== "qinq") return;
  if (values.tag === undefined) throw paramError({ tag: "missing vlan tag" });
  const tag = Number(values.tag);
  if (tag > 4094) throw paramError({ tag: "vlan tag max value is 4094" });
  const dup = Object.entries(config.vnets).find(
    ([id, v]) => id !== vnet && v.zone === values.zone && Number(v.tag) === tag,
  );
  if (dup) throw paramError({ tag: `tag ${tag} already exist in vnet ${dup[0]}` });
}

function typed(values: Item): Item {
  for (const k of ["tag", "mtu", "vlanaware", "isolate-ports", "vrf-vxlan"])
    if (k in values) values[k] = Number(values[k]);
  return values;
}

function create(kind: Kind) {
  return (c: Call): null => {
    const { config } = c.sim.state.sdn;
    const id = need(c, ID[kind]);
    if (config[kind][id]) throw fail(`sdn ${ID[kind]} object ID '${id}' already defined`);
    const values = typed(settings(c, [ID[kind]], CONTROL));
    if (kind === "zones" && (values.type === "vlan" || values.type === "qinq") && !values.bridge) {
      throw paramError({ bridge: "property is missing and it is not optional" });
    }
    if (kind === "vnets") checkVnet(config, id, { type: "vnet", ...values });
    config[kind][id] = kind === "vnets" ? { type: "vnet", ...values } : values;
    return null;
  };
}

/** vnet endpoints check SDN.Allocate on /sdn/zones/<zone>/<vnet> in the handler. */
function checkVnetPriv(c: Call, kind: Kind, id: string, item: Item | undefined): void {
  if (kind === "vnets" && item)
    checkPrivs(c.sim.state, c.auth, `/sdn/zones/${String(item.zone)}/${id}`, ["SDN.Allocate"]);
}

function update(kind: Kind) {
  return (c: Call): null => {
    const { config } = c.sim.state.sdn;
    const id = need(c, ID[kind]);
    const cur = config[kind][id];
    if (!cur) throw fail(`sdn ${ID[kind]} '${id}' does not exist`);
    checkVnetPriv(c, kind, id, cur);
    const next: Item = { ...cur };
    for (const key of deleteList(c)) delete next[key];
    Object.assign(next, typed(settings(c, [ID[kind]], CONTROL)));
    if (kind === "vnets") checkVnet(config, id, next);
    config[kind][id] = next;
    return null;
  };
}

function remove(kind: Kind) {
  return (c: Call): null => {
    const { config } = c.sim.state.sdn;
    const id = need(c, ID[kind]);
    if (!config[kind][id]) throw fail(`sdn ${ID[kind]} '${id}' does not exist`);
    checkVnetPriv(c, kind, id, config[kind][id]);
    const user = kind === "zones" && Object.entries(config.vnets).find(([, v]) => v.zone === id);
    if (user) throw fail(`Can't remove zone ${id}: vnet ${user[0]} is still using it`);
    delete config[kind][id];
    return null;
  };
}

export const sdnRoutes: Routes = {
  "GET /cluster/sdn": () => ["vnets", "zones", "controllers", "ipams", "dns", "fabrics"].map((id) => ({ id })),
  "PUT /cluster/sdn": (c) =>
    c.sim.tasks.start({ node: c.sim.state.nodes[0]!, type: "reloadnetworkall", id: "", auth: c.auth }, async (t) => {
      await t.step();
      c.sim.state.sdn.running = structuredClone(c.sim.state.sdn.config);
      for (const n of c.sim.state.nodes) t.log(`${n}: reloading network config`);
    }),
  ...Object.fromEntries(
    (["zones", "vnets"] as const).flatMap((kind) => [
      [`GET /cluster/sdn/${kind}`, list(kind)],
      [`POST /cluster/sdn/${kind}`, create(kind)],
      [`GET /cluster/sdn/${kind}/{${ID[kind]}}`, get(kind)],
      [`PUT /cluster/sdn/${kind}/{${ID[kind]}}`, update(kind)],
      [`DELETE /cluster/sdn/${kind}/{${ID[kind]}}`, remove(kind)],
    ]),
  ),
};
