// An SDN VLAN zone on the bridge and one VNet per VLAN; changes are staged
// cluster-wide and applied once (PUT /cluster/sdn).
import { defined, valueChange } from "../../resources/attrs-diff.ts";
import type { Change, HostCtx, Resource } from "../../engine/types.ts";
import { Type, type Static } from "@sinclair/typebox";
import { closed } from "../../resources/options.ts";
import type { ParamsFor, PveApi, Reply } from "./api.ts";
import { checkWant } from "./check.ts";

export const VnetWant = Type.Object(
  {
    vnet: Type.String({ minLength: 1 }),
    tag: Type.Integer({ minimum: 1, maximum: 4094 }),
    alias: Type.Optional(Type.String()),
    isolatePorts: Type.Optional(Type.Boolean()),
  },
  closed,
);
export type VnetWant = Static<typeof VnetWant>;

export const SdnWant = Type.Object(
  { zone: Type.String({ minLength: 1 }), bridge: Type.String({ minLength: 1 }), vnets: Type.Array(VnetWant) },
  closed,
);
export type SdnWant = Static<typeof SdnWant>;

type Zone = Reply<"/cluster/sdn/zones">[number];
type Vnet = Reply<"/cluster/sdn/vnets">[number];
export interface SdnHave {
  zone?: Zone;
  vnets: Vnet[];
}

export function sdnVlans(pve: (ctx: HostCtx) => Promise<PveApi>, want: SdnWant): Resource<SdnWant, SdnHave> {
  checkWant("sdnVlans", SdnWant, want);
  return {
    id: `pve:sdn/${want.zone}`,
    want,
    async read(ctx) {
      const api = await pve(ctx);
      // pending=1 shows staged values too, so a half-applied run is seen as it is. A staged
      // object shows its running values with the staged ones under `pending` (a new VNet's
      // zone only there): what the next apply makes of it is the two merged.
      const zones = await api.get("/cluster/sdn/zones", { pending: true });
      const vnets = await api.get("/cluster/sdn/vnets", { pending: true });
      const zone = zones.find((z) => z.zone === want.zone);
      return { ...(zone ? { zone: staged(zone) } : {}), vnets: vnets.map(staged).filter((v) => v.zone === want.zone) };
    },
    diff: sdnDiff,
    async apply(ctx, changes) {
      const api = await pve(ctx);
      for (const c of changes) {
        const [kind, id] = c.key.split(":");
        if (kind === "zone-create")
          await api.post("/cluster/sdn/zones", { zone: want.zone, type: "vlan", bridge: want.bridge });
        if (kind === "zone-update")
          await api.put("/cluster/sdn/zones/{zone}", { zone: want.zone, bridge: want.bridge });
        const v = want.vnets.find((x) => x.vnet === id);
        const params =
          v &&
          ({
            vnet: v.vnet,
            tag: v.tag,
            alias: v.alias || undefined,
            "isolate-ports": v.isolatePorts || undefined,
          } satisfies ParamsFor<"PUT", "/cluster/sdn/vnets/{vnet}">);
        if (kind === "vnet-create" && params) await api.post("/cluster/sdn/vnets", { zone: want.zone, ...params });
        if (kind === "vnet-update" && params) await api.put("/cluster/sdn/vnets/{vnet}", params);
        if (kind === "vnet-delete" && id) await api.delete("/cluster/sdn/vnets/{vnet}", { vnet: id });
      }
      await api.wait(await api.put("/cluster/sdn"), "apply SDN configuration");
    },
    ok: (have) => `zone ${want.zone} with ${have.vnets.length} VNet(s) is applied`,
  };
}

/** The object as it will be once staged changes are applied (`state` kept: it marks them). */
const staged = <T extends { pending?: object }>(x: T): T => (x.pending ? { ...x, ...x.pending } : x);

export function sdnDiff(want: SdnWant, have: SdnHave): Change[] {
  const out: Change[] = [];
  // Staged for deletion: gone once applied.
  const zone = have.zone?.state === "deleted" ? undefined : have.zone;
  const vnets = have.vnets.filter((v) => v.state !== "deleted");
  if (!zone)
    out.push(
      valueChange("zone-create", `create SDN VLAN zone ${want.zone} on bridge ${want.bridge}`, null, {
        zone: want.zone,
        type: "vlan",
        bridge: want.bridge,
      }),
    );
  else if (zone.bridge !== want.bridge)
    out.push(
      valueChange(
        "zone-update",
        `zone ${want.zone}: bridge ${zone.bridge ?? "-"} -> ${want.bridge}`,
        zone.bridge,
        want.bridge,
      ),
    );
  for (const v of want.vnets) {
    const h = vnets.find((x) => x.vnet === v.vnet);
    if (!h)
      out.push(
        valueChange(
          `vnet-create:${v.vnet}`,
          `create VNet ${v.vnet} (VLAN ${v.tag}${v.alias ? `, ${v.alias}` : ""})`,
          null,
          v,
        ),
      );
    else if (
      Number(h.tag) !== v.tag ||
      (h.alias ?? "") !== (v.alias ?? "") ||
      Boolean(Number(h["isolate-ports"] ?? 0)) !== Boolean(v.isolatePorts)
    ) {
      out.push(
        valueChange(
          `vnet-update:${v.vnet}`,
          `VNet ${v.vnet}: tag ${h.tag ?? "-"} -> ${v.tag}${v.isolatePorts ? ", isolate ports" : ""}`,
          defined({ tag: h.tag, alias: h.alias, isolatePorts: h["isolate-ports"] }),
          v,
        ),
      );
    }
  }
  for (const h of vnets) {
    if (!want.vnets.some((v) => v.vnet === h.vnet))
      out.push(valueChange(`vnet-delete:${h.vnet}`, `delete VNet ${h.vnet} (no longer in vlans:)`, h, null));
  }
  // Staged but not applied (a run that stopped between staging and apply): apply now.
  if (out.length === 0 && [have.zone, ...have.vnets].some((x) => x?.state)) {
    out.push({ key: "apply", summary: "apply staged SDN changes" });
  }
  return out;
}
