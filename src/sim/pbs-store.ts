// PBS datastores seen from PVE: a `pbs` storage lists the snapshots of its
// datastore as backup volumes `<storage>:backup/vm/<id>/<RFC3339 time>`.
import type { SimState, Volume } from "./state.ts";

export const pbsTime = (epoch: number): string => new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

export function pbsSnapshotVolumes(state: SimState, sid: string): Volume[] {
  const datastore = String(state.storage[sid]?.datastore ?? "");
  return (state.pbs.snapshots[datastore] ?? []).map((s) => ({
    volid: `${sid}:backup/${s["backup-type"]}/${s["backup-id"]}/${pbsTime(s["backup-time"])}`,
    content: "backup",
    format: `pbs-${s["backup-type"]}`,
    size: s.size,
    ctime: s["backup-time"],
    vmid: Number(s["backup-id"]),
    ...(s.comment ? { notes: s.comment } : {}),
    backup: { config: s.config },
  }));
}
