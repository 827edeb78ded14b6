// What `lab backup` prints and leaves behind: a table for a person, JSON for
// machines (the status file has the same shape), and the textfile metrics the
// monitoring stack alerts on (BackupTooOld: time() - last_success > rpo).
import { join } from "node:path";
import { formatDuration } from "./duration.ts";
import type { Metric, Sample } from "./metrics.ts";
import type { PgStatus } from "./pg-status.ts";
import type { VmStatus } from "./vm-status.ts";

export type TargetStatus = PgStatus | VmStatus;

/** Where `lab backup` leaves its last report (what `lab schedule status` reads). */
export const statusFile = (root: string): string => join(root, ".lab", "backup", "status.json");

export interface BackupReport {
  readonly format_version: 1;
  readonly checked_at: string;
  readonly ok: boolean;
  readonly targets: readonly TargetStatus[];
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}

export function backupReport(
  targets: readonly TargetStatus[],
  now: Date,
  extraWarnings: readonly string[] = [],
): BackupReport {
  const problems = targets.flatMap((t) => t.problems);
  return {
    format_version: 1,
    checked_at: now.toISOString(),
    ok: problems.length === 0,
    targets,
    problems,
    warnings: [...extraWarnings, ...targets.flatMap((t) => t.warnings)],
  };
}

const age = (sec: number | undefined) => (sec === undefined ? "-" : formatDuration(sec));

/** One row per repository (PostgreSQL) or VM, aligned. */
export function formatBackupTable(r: BackupReport): string {
  const rows: string[][] = [["TARGET", "WHERE", "LAST BACKUP", "AGE / ALLOWED", "WAL LAG / RPO", "STATUS"]];
  for (const t of r.targets) {
    if (t.kind === "postgres") {
      for (const repo of t.repos) {
        rows.push([
          t.target,
          `${repo.repo} (repo${repo.index}${repo.host ? ` on ${repo.host}` : ` on ${t.host}`})`,
          repo.lastBackup?.label ?? "none",
          `${age(repo.ageSec)} / ${formatDuration(repo.maxAgeSec)}`,
          `${age(t.walLagSec)} / ${formatDuration(t.rpoSec)}`,
          repo.verdict === "ok" && t.verdict === "ok" ? "ok" : "BREACH",
        ]);
      }
    } else {
      for (const v of t.vms) {
        rows.push([
          t.target,
          `${v.vm}${v.vmid ? ` (${v.vmid})` : ""}`,
          v.lastBackup ? new Date(v.lastBackup * 1000).toISOString().replace(".000", "") : "none",
          `${age(v.ageSec)} / ${formatDuration(v.maxAgeSec)}`,
          `- / ${formatDuration(t.rpoSec)}`,
          v.verdict === "ok" ? (v.verify === "ok" ? "ok (verified)" : "ok") : "BREACH",
        ]);
      }
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd(),
  );
  const tail = [
    ...r.problems.map((p) => `BREACH ${p}`),
    ...r.warnings.map((w) => `warning: ${w}`),
    r.ok
      ? `every target meets its policy (${r.targets.length} checked)`
      : `${r.problems.length} problem(s): the targets above breach their policy`,
  ];
  return [...lines, "", ...tail].join("\n");
}

/** Metrics per target and repository (VM targets: per VM). */
export function backupMetrics(r: BackupReport): Metric[] {
  const nowSec = Date.parse(r.checked_at) / 1000;
  const last: Sample[] = [],
    rpo: Sample[] = [],
    ageS: Sample[] = [],
    allowed: Sample[] = [],
    size: Sample[] = [],
    verify: Sample[] = [],
    ok: Sample[] = [],
    lag: Sample[] = [];
  for (const t of r.targets) {
    ok.push({ labels: { target: t.target, kind: t.kind }, value: t.verdict === "ok" ? 1 : 0 });
    if (t.kind === "postgres") {
      if (t.walLagSec !== undefined) lag.push({ labels: { target: t.target }, value: t.walLagSec });
      for (const repo of t.repos) {
        const labels = { target: t.target, kind: "postgres", repository: repo.repo };
        // The newest restorable point: now minus the WAL lag while the repository keeps up with the archive.
        const upToDate = repo.verdict === "ok" && t.walLagSec !== undefined && !t.archiveFailing;
        const point = upToDate ? nowSec - t.walLagSec : repo.lastBackup?.stop;
        if (point !== undefined) last.push({ labels, value: Math.round(point) });
        rpo.push({ labels, value: t.rpoSec });
        if (repo.ageSec !== undefined) ageS.push({ labels, value: Math.round(repo.ageSec) });
        allowed.push({ labels, value: repo.maxAgeSec });
        if (repo.lastBackup) size.push({ labels, value: repo.lastBackup.repoBytes });
      }
    } else {
      for (const v of t.vms) {
        const labels = { target: t.target, kind: "vm", repository: v.vm };
        if (v.lastBackup !== undefined) last.push({ labels, value: v.lastBackup });
        rpo.push({ labels, value: t.rpoSec });
        if (v.ageSec !== undefined) ageS.push({ labels, value: Math.round(v.ageSec) });
        allowed.push({ labels, value: v.maxAgeSec });
        if (v.sizeBytes !== undefined) size.push({ labels, value: v.sizeBytes });
        if (v.verify) verify.push({ labels, value: v.verify === "ok" ? 1 : 0 });
      }
    }
  }
  return [
    {
      name: "lab_backup_last_success_timestamp_seconds",
      help: "Newest point a restore reaches (PostgreSQL: now minus the WAL lag while archiving keeps up; VMs: the newest backup).",
      type: "gauge",
      samples: last,
    },
    { name: "lab_backup_rpo_seconds", help: "The target's RPO from backups/policy.yaml.", type: "gauge", samples: rpo },
    {
      name: "lab_backup_age_seconds",
      help: "Age of the newest good base backup / VM backup.",
      type: "gauge",
      samples: ageS,
    },
    {
      name: "lab_backup_max_age_seconds",
      help: "Oldest the newest backup may be under its schedule (longest gap plus grace).",
      type: "gauge",
      samples: allowed,
    },
    {
      name: "lab_backup_wal_lag_seconds",
      help: "How long the oldest completed WAL segment has waited to be archived.",
      type: "gauge",
      samples: lag,
    },
    {
      name: "lab_backup_size_bytes",
      help: "Size in the repository of the newest backup.",
      type: "gauge",
      samples: size,
    },
    {
      name: "lab_backup_verify_ok",
      help: "1 when the newest backup passed verification, 0 when it failed.",
      type: "gauge",
      samples: verify,
    },
    { name: "lab_backup_ok", help: "1 when the target meets its policy.", type: "gauge", samples: ok },
    {
      name: "lab_backup_check_timestamp_seconds",
      help: "When lab backup last checked.",
      type: "gauge",
      samples: [{ labels: {}, value: Math.round(nowSec) }],
    },
  ];
}
