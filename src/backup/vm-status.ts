// The truth about one VM target: per VM the newest backup in the PBS datastore
// (as Proxmox lists it) against the schedule, its verify state, and the offsite
// copy (the PBS sync target). Pure: what the APIs returned in, findings out.
import { formatDuration } from "./duration.ts";
import { OVERDUE_GRACE_SEC, type Verdict } from "./pg-status.ts";
import type { VmPolicy } from "./policy.ts";

/** One backup as Proxmox lists it (GET /nodes/{node}/storage/{storage}/content?content=backup). */
export interface VmBackup {
  vmid: number;
  /** Unix seconds. */
  ctime: number;
  size?: number;
  verification?: { state: string };
  protected?: boolean | number;
}

export interface VmObservation {
  /** The target's VMs with the vmid Proxmox gave them (absent: not created yet). */
  vms: { name: string; vmid?: number }[];
  /** Backups in the target's storage; undefined: could not be listed (the cause in `unreachable`). */
  local: VmBackup[] | undefined;
  /** Snapshot times (Unix seconds) per vmid in the offsite datastore; undefined when there is no offsite copy to check. */
  offsite?: Record<number, number[]>;
  unreachable?: string;
}

export interface VmEntryStatus {
  readonly vm: string;
  readonly vmid?: number;
  readonly verdict: Verdict;
  readonly lastBackup?: number;
  readonly ageSec?: number;
  readonly maxAgeSec: number;
  readonly sizeBytes?: number;
  readonly verify?: string;
  readonly snapshots: number;
  readonly offsiteLast?: number;
  readonly problems: readonly string[];
}

export interface VmStatus {
  readonly target: string;
  readonly kind: "vm";
  readonly verdict: Verdict;
  readonly rpoSec: number;
  readonly vms: readonly VmEntryStatus[];
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}

export function vmStatus(policy: VmPolicy, obs: VmObservation, now: Date, scheduleGapSec: number): VmStatus {
  const t = policy.name;
  const nowSec = now.getTime() / 1000;
  const maxAgeSec = scheduleGapSec + OVERDUE_GRACE_SEC;
  const offsiteMax = policy.offsite ? scheduleGapSec + OVERDUE_GRACE_SEC * 2 : 0;
  const vms = obs.vms.map((v): VmEntryStatus => {
    const p: string[] = [];
    if (obs.unreachable || !obs.local)
      return {
        vm: v.name,
        ...(v.vmid ? { vmid: v.vmid } : {}),
        verdict: "breach",
        maxAgeSec,
        snapshots: 0,
        problems: [`${t}: cannot list backups of ${v.name}: ${obs.unreachable ?? "no answer"}`],
      };
    if (v.vmid === undefined)
      return {
        vm: v.name,
        verdict: "breach",
        maxAgeSec,
        snapshots: 0,
        problems: [`${t}: VM ${v.name} does not exist on ${policy.endpoint}: run lab apply`],
      };
    const mine = obs.local.filter((b) => b.vmid === v.vmid).sort((a, b) => a.ctime - b.ctime);
    const last = mine[mine.length - 1];
    const ageSec = last ? Math.max(0, nowSec - last.ctime) : undefined;
    if (!last) p.push(`${t}: VM ${v.name} (${v.vmid}) has no backup in ${policy.storage}: run \`lab backup --run\``);
    else if (ageSec! > maxAgeSec)
      p.push(
        `${t}: the newest backup of ${v.name} (${v.vmid}) is ${formatDuration(ageSec!)} old; its schedule allows ${formatDuration(maxAgeSec)}: check the backup job on ${policy.endpoint}`,
      );
    const verify = last?.verification?.state;
    if (verify === "failed")
      p.push(
        `${t}: the newest backup of ${v.name} FAILED verification: its data is damaged; run \`lab backup --run\` and check the datastore`,
      );
    let offsiteLast: number | undefined;
    if (policy.offsite && obs.offsite) {
      offsiteLast = Math.max(0, ...(obs.offsite[v.vmid] ?? []));
      if (!offsiteLast)
        p.push(
          `${t}: VM ${v.name} has no copy in the offsite datastore ${policy.offsite.datastore}: check the PBS sync job`,
        );
      else if (nowSec - offsiteLast > offsiteMax)
        p.push(
          `${t}: the offsite copy of ${v.name} is ${formatDuration(nowSec - offsiteLast)} old (allowed ${formatDuration(offsiteMax)}): check the PBS sync job`,
        );
      if (!offsiteLast) offsiteLast = undefined;
    }
    return {
      vm: v.name,
      vmid: v.vmid,
      verdict: p.length ? "breach" : "ok",
      maxAgeSec,
      snapshots: mine.length,
      ...(last
        ? { lastBackup: last.ctime, ageSec: ageSec!, ...(last.size !== undefined ? { sizeBytes: last.size } : {}) }
        : {}),
      ...(verify ? { verify } : {}),
      ...(offsiteLast ? { offsiteLast } : {}),
      problems: p,
    };
  });
  const problems = vms.flatMap((v) => v.problems);
  const warnings = vms
    .filter((v) => v.lastBackup !== undefined && v.verify === undefined)
    .map((v) => `${t}: the newest backup of ${v.vm} is not verified yet (a PBS verify job checks it)`);
  return {
    target: t,
    kind: "vm",
    verdict: problems.length ? "breach" : "ok",
    rpoSec: policy.rpoSec,
    vms,
    problems,
    warnings,
  };
}
