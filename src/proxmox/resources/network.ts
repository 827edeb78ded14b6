// The VLAN-aware bridge on a node: created or updated in the node's staged
// network config, then applied (PUT /nodes/{node}/network = ifreload).
import { defined, valueChange } from "../../resources/attrs-diff.ts";
import type { Change, HostCtx, Resource } from "../../engine/types.ts";
import { ExitCode, LabError } from "../../errors.ts";
import { Type, type Static } from "@sinclair/typebox";
import { closed } from "../../resources/options.ts";
import type { ParamsFor, PveApi, Reply } from "./api.ts";
import { checkWant } from "./check.ts";

export const BridgeWant = Type.Object(
  {
    node: Type.String({ minLength: 1 }),
    bridge: Type.String({ minLength: 1 }),
    /** Physical ports, e.g. "eno1" (omit to leave as is). */
    ports: Type.Optional(Type.String()),
    /** VLAN ids the bridge carries, e.g. "10 20 30 40". */
    vids: Type.String(),
    comment: Type.Optional(Type.String()),
  },
  closed,
);
export type BridgeWant = Static<typeof BridgeWant>;

export type BridgeHave = Reply<"/nodes/{node}/network">[number] | undefined;

export function vlanBridge(pve: (ctx: HostCtx) => Promise<PveApi>, want: BridgeWant): Resource<BridgeWant, BridgeHave> {
  checkWant("vlanBridge", BridgeWant, want);
  const node = want.node;
  return {
    id: `pve:network/${want.node}/${want.bridge}`,
    want,
    async read(ctx) {
      const list = await (await pve(ctx)).get("/nodes/{node}/network", { node });
      return list.find((i) => i.iface === want.bridge);
    },
    diff: bridgeDiff,
    async apply(ctx, changes, have) {
      const api = await pve(ctx);
      const params = {
        node,
        iface: want.bridge,
        type: "bridge",
        bridge_vlan_aware: true,
        bridge_vids: want.vids,
        autostart: true,
        bridge_ports: want.ports,
        comments: want.comment || undefined,
      } satisfies ParamsFor<"POST", "/nodes/{node}/network"> & ParamsFor<"PUT", "/nodes/{node}/network/{iface}">;
      if (!have) await api.post("/nodes/{node}/network", params);
      else await api.put("/nodes/{node}/network/{iface}", params);
      await api.wait(
        await api.put("/nodes/{node}/network", { node }),
        `apply network config on ${want.node} (${changes.length} change(s))`,
      );
    },
    ok: (have) => `${want.bridge} is VLAN-aware, carries ${have?.bridge_vids ?? "?"}`,
  };
}

const norm = (vids: string | undefined) =>
  (vids ?? "")
    .trim()
    .split(/[\s,]+/)
    .filter(Boolean)
    .join(" ");

export function bridgeDiff(want: BridgeWant, have: BridgeHave): Change[] {
  if (!have)
    return [
      valueChange(
        "create",
        `create VLAN-aware bridge ${want.bridge} on ${want.node} carrying VLANs ${want.vids}`,
        null,
        defined({ ...want, bridge_vlan_aware: 1 }),
      ),
    ];
  if (have.type !== "bridge")
    throw new LabError(
      `${want.bridge} on ${want.node} is a ${have.type}, not a bridge`,
      ExitCode.failed,
      {},
      "choose another bridge name (proxmox.<endpoint>.bridge); lab does not convert interfaces",
    );
  const out: Change[] = [];
  if (Number(have.bridge_vlan_aware ?? 0) !== 1)
    out.push(valueChange("bridge_vlan_aware", `bridge_vlan_aware 0 -> 1`, Number(have.bridge_vlan_aware ?? 0), 1));
  if (norm(have.bridge_vids) !== norm(want.vids))
    out.push(
      valueChange(
        "bridge_vids",
        `bridge_vids ${have.bridge_vids ?? "(none)"} -> ${want.vids}`,
        have.bridge_vids,
        want.vids,
      ),
    );
  if (want.ports !== undefined && (have.bridge_ports ?? "") !== want.ports)
    out.push(
      valueChange(
        "bridge_ports",
        `bridge_ports ${have.bridge_ports ?? "(none)"} -> ${want.ports}`,
        have.bridge_ports,
        want.ports,
      ),
    );
  return out;
}
