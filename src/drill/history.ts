// Past drills, from the JSON reports in backups/reports/: for the chart and for
// `lab backup`'s warning when a target's last successful drill is older than its
// policy's drill_every.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { DrillReport } from "./report.ts";

export const reportsDir = (root: string) => join(root, "backups", "reports");

/** Every readable drill report, oldest first (unreadable or foreign JSON files are skipped). */
export async function readReports(root: string): Promise<DrillReport[]> {
  const dir = reportsDir(root);
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: DrillReport[] = [];
  for (const f of names.filter((n) => /^drill-.*\.json$/.test(n)).sort()) {
    try {
      const r = JSON.parse(await readFile(join(dir, f), "utf8")) as DrillReport;
      if (r.format_version === 1 && Array.isArray(r.drills)) out.push(r);
    } catch {
      // A half-written or hand-edited file is not history.
    }
  }
  return out.sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at));
}

/** When the target last passed a drill (its report's end), or undefined. */
export async function lastSuccessfulDrill(root: string, target: string): Promise<Date | undefined> {
  let last: Date | undefined;
  for (const r of await readReports(root)) {
    if (!r.interrupted && r.drills.some((d) => d.target === target && d.ok)) last = new Date(r.finished_at);
  }
  return last;
}

/** The warning for a target whose last successful drill is older than drill_every (or that never passed one). */
export function drillOverdue(
  target: string,
  last: Date | undefined,
  drillEverySec: number,
  now: Date,
): string | undefined {
  if (!last) return `${target}: no successful restore drill on record: run \`lab drill ${target}\``;
  const age = (now.getTime() - last.getTime()) / 1000;
  if (age <= drillEverySec) return undefined;
  return `${target}: last successful restore drill ${last.toISOString()} is ${Math.floor(age / 86400)} days old; the policy asks for one every ${Math.round(drillEverySec / 86400)} days: run \`lab drill ${target}\``;
}

/** `lab backup`'s warnings: targets whose last successful drill is older than their drill_every. */
export async function overdueDrills(
  root: string,
  targets: readonly { name: string; drillEverySec: number }[],
  now: Date,
): Promise<string[]> {
  const out: string[] = [];
  for (const t of targets) {
    const w = drillOverdue(t.name, await lastSuccessfulDrill(root, t.name), t.drillEverySec, now);
    if (w) out.push(w);
  }
  return out;
}

/** When a VM target last passed a drill that restored an older backup too (for older_every). */
export async function lastOlderPass(root: string, target: string): Promise<Date | undefined> {
  let last: Date | undefined;
  for (const r of await readReports(root)) {
    if (!r.interrupted && r.drills.some((d) => d.target === target && d.kind === "vm" && d.ok && d.older.restored))
      last = new Date(r.finished_at);
  }
  return last;
}
