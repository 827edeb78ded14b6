// The last result of each job, from what lab itself leaves behind (no state of
// its own): `lab backup`'s status file, the audit record of `lab backup verify`,
// and the newest drill report in backups/reports/.
import { readFile } from "node:fs/promises";
import { statusFile, type BackupReport } from "../backup/report.ts";
import { readReports } from "../drill/history.ts";
import { readAudit } from "../engine/audit.ts";
import type { JobKind } from "./jobs.ts";

export interface LastResult {
  /** ISO time the run finished (or checked). */
  readonly at: string;
  readonly ok: boolean;
  /** One line: what it found. */
  readonly summary: string;
  /** The file it was read from. */
  readonly from: string;
}

const firstAndMore = (problems: readonly string[]) =>
  `${problems[0] ?? "failed"}${problems.length > 1 ? ` (+${problems.length - 1} more)` : ""}`;

async function lastBackup(root: string): Promise<LastResult | undefined> {
  const file = statusFile(root);
  let r: BackupReport;
  try {
    r = JSON.parse(await readFile(file, "utf8")) as BackupReport;
  } catch {
    return undefined; // never ran (or a hand-edited file: not a result)
  }
  if (r.format_version !== 1) return undefined;
  return {
    at: r.checked_at,
    ok: r.ok,
    summary: r.ok ? `every target meets its policy (${r.targets.length} checked)` : firstAndMore(r.problems),
    from: file,
  };
}

async function lastVerify(root: string): Promise<LastResult | undefined> {
  const last = (await readAudit({ root })).filter((a) => a.playbook === "(lab backup verify)").pop();
  if (!last) return undefined;
  return {
    at: last.time,
    ok: last.exitCode === 0,
    summary:
      last.exitCode === 0
        ? "every repository verified intact"
        : `exit ${last.exitCode}: verification found damage (run lab backup verify for the findings)`,
    from: ".lab/audit.jsonl",
  };
}

async function lastDrill(root: string): Promise<LastResult | undefined> {
  const last = (await readReports(root)).pop();
  if (!last) return undefined;
  return {
    at: last.finished_at,
    ok: last.ok,
    summary: last.ok ? `${last.drills.length} drill(s) passed` : firstAndMore(last.problems),
    from: `backups/reports/ (${last.run})`,
  };
}

export function lastResult(root: string, kind: JobKind): Promise<LastResult | undefined> {
  return kind === "backup" ? lastBackup(root) : kind === "verify" ? lastVerify(root) : lastDrill(root);
}
