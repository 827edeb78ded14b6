// `lab backup plan`: per PBS backup group of the policy's VM targets (in the
// datastore and its offsite copy, both pruned with the target's retention), which
// snapshots the next prune removes. The selection is PBS's own (prune.ts) over
// the snapshot list the PBS API returns; nothing is changed. Pure: what the APIs
// returned in, the plan out.
import { CalendarError, nextEvent, parseCalendarEvent } from "./calendar.ts";
import { formatDuration } from "./duration.ts";
import { localTimeFormat } from "./local-time.ts";
import type { VmPolicy } from "./policy.ts";
import { selectPrune, type KeepOptions, type KeepReason } from "./prune.ts";

/** One snapshot as GET /admin/datastore/{store}/snapshots lists it. */
export interface ListedSnapshot {
  readonly "backup-type": string;
  readonly "backup-id": string;
  readonly "backup-time": number;
  readonly files: readonly string[];
  readonly protected: boolean | 0 | 1;
}

/** The PBS prune job lab made for a datastore (roles/pbs-backup.ts: `lab-<target>`), as GET /admin/prune lists it. */
export interface ListedPruneJob {
  readonly id: string;
  readonly store: string;
  readonly schedule: string;
  readonly "next-run"?: number;
}

export interface PlannedSnapshot {
  /** backup-time as RFC 3339 (UTC). */
  readonly time: string;
  readonly action: "keep" | "remove";
  readonly reason?: KeepReason;
  /** No manifest (index.json.blob) yet: a backup running now, or one that died. */
  readonly unfinished?: true;
}

export interface GroupPlan {
  readonly target: string;
  readonly vm: string;
  readonly vmid?: number;
  readonly pbs: string;
  readonly datastore: string;
  /** PBS group: vm/<vmid>. */
  readonly group?: string;
  readonly keep: KeepOptions;
  /** The prune job that will do it and its next run (unix seconds), when PBS lists one. */
  readonly pruneJob?: { readonly id: string; readonly schedule: string; readonly nextRun?: number };
  /** Newest first. */
  readonly snapshots: readonly PlannedSnapshot[];
  readonly remove: number;
  /** Why there is nothing to plan (VM not created yet). */
  readonly note?: string;
}

export interface BackupPlan {
  readonly format_version: 1;
  readonly timezone: string;
  readonly groups: readonly GroupPlan[];
}

const iso = (sec: number) => new Date(sec * 1000).toISOString().replace(".000Z", "Z");

/** PBS lists a snapshot whose manifest is missing without it among its files. */
const finished = (s: ListedSnapshot) => s.files.includes("index.json.blob");

/** The datastores a target's retention prunes: its own and the offsite copy. */
export const prunedStores = (t: VmPolicy): string[] => [t.datastore, ...(t.offsite ? [t.offsite.datastore] : [])];

/** When the job runs next: as the PBS says, else computed from its calendar event in the server's zone. */
function nextPrune(job: ListedPruneJob, timeZone: string, now: Date): number | undefined {
  if (job["next-run"] !== undefined) return job["next-run"];
  try {
    const at = nextEvent(parseCalendarEvent(job.schedule), timeZone, now);
    return at ? at.getTime() / 1000 : undefined;
  } catch (e) {
    if (e instanceof CalendarError) return undefined; // a schedule lab cannot read: no time shown
    throw e;
  }
}

export function planGroup(
  t: VmPolicy,
  vm: { name: string; vmid?: number },
  datastore: string,
  listed: readonly ListedSnapshot[],
  job: ListedPruneJob | undefined,
  now: Date,
): GroupPlan {
  const next = job && nextPrune(job, t.timezone, now);
  const base = {
    target: t.name,
    vm: vm.name,
    pbs: t.pbs,
    datastore,
    keep: t.retention,
    ...(job
      ? { pruneJob: { id: job.id, schedule: job.schedule, ...(next !== undefined ? { nextRun: next } : {}) } }
      : {}),
  };
  if (vm.vmid === undefined)
    return { ...base, snapshots: [], remove: 0, note: `VM ${vm.name} does not exist on ${t.endpoint} yet` };
  const mine = listed
    .filter((s) => s["backup-type"] === "vm" && s["backup-id"] === String(vm.vmid))
    .map((s) => ({ s, time: s["backup-time"], finished: finished(s), protected: Boolean(s.protected) }));
  const snapshots = selectPrune(mine, t.retention, t.timezone).map((d): PlannedSnapshot => ({
    time: iso(d.snapshot.time),
    action: d.mark === "remove" ? "remove" : "keep",
    ...(d.reason ? { reason: d.reason } : {}),
    ...(d.snapshot.finished ? {} : { unfinished: true as const }),
  }));
  return {
    ...base,
    vmid: vm.vmid,
    group: `vm/${vm.vmid}`,
    snapshots,
    remove: snapshots.filter((s) => s.action === "remove").length,
  };
}

const keepText = (k: KeepOptions) =>
  Object.entries(k)
    .filter(([, n]) => n !== undefined)
    .map(([r, n]) => `keep-${r}=${String(n)}`)
    .join(",");

/** One block per group: its keep options and prune job, then a row per snapshot (newest first). */
export function formatPlanTable(plan: BackupPlan, now: Date): string {
  const local = localTimeFormat(plan.timezone);
  const rows: string[][] = [
    ["TARGET", "GROUP", "DATASTORE", "SNAPSHOT", `LOCAL (${plan.timezone})`, "ACTION", "KEPT BY"],
  ];
  const notes: string[] = [];
  for (const g of plan.groups) {
    const where = `${g.pbs}:${g.datastore}`;
    if (g.note) notes.push(`${g.target} ${g.vm}: ${g.note}`);
    if (!g.snapshots.length) rows.push([g.target, g.group ?? g.vm, where, "(none)", "", "", ""]);
    for (const s of g.snapshots) {
      rows.push([
        g.target,
        `${g.group ?? ""} (${g.vm})`,
        where,
        s.time,
        local.format(new Date(s.time)),
        s.action,
        [s.reason ?? "", s.unfinished ? "unfinished" : ""].filter(Boolean).join(", "),
      ]);
    }
    const job = g.pruneJob
      ? `prune job ${g.pruneJob.id} (${g.pruneJob.schedule})${g.pruneJob.nextRun !== undefined ? ` runs next ${iso(g.pruneJob.nextRun)} (in ${formatDuration(Math.max(0, Math.round((g.pruneJob.nextRun - now.getTime() / 1000) / 60) * 60))})` : ""}`
      : "no prune job on the PBS yet (lab apply creates it)";
    notes.push(
      `${g.target} ${g.group ?? g.vm} on ${where}: ${keepText(g.keep)}: ${g.remove} of ${g.snapshots.length} to remove; ${job}`,
    );
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd(),
  );
  const total = plan.groups.reduce((n, g) => n + g.remove, 0);
  return [
    ...table,
    "",
    ...notes,
    "",
    `the next prune removes ${total} snapshot(s) in ${plan.groups.length} group(s)`,
  ].join("\n");
}
