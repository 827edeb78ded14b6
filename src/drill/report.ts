// What `lab drill` leaves behind per run in backups/reports/: JSON for machines
// (format_version 1; the history that the chart, `lastSuccessfulDrill` and the
// next runs read), and Markdown for a person: one table (target, restored point,
// RPO and RTO achieved vs policy with the RTO's phases, checks, verdict) with
// the chart of past drills next to it.
import { formatDuration } from "../backup/duration.ts";
import type { RestoreOutcome } from "./measure.ts";
import type { PgDrillResult } from "./postgres-drill.ts";
import type { VmDrillResult, VmRestoreOutcome } from "./vm-drill.ts";

/** One target's drill: PostgreSQL (pgBackRest) or VMs (Proxmox + PBS). */
export type DrillResult = PgDrillResult | VmDrillResult;

export interface DrillReport {
  readonly format_version: 1;
  readonly run: string;
  readonly started_at: string;
  readonly finished_at: string;
  readonly ok: boolean;
  readonly interrupted: boolean;
  readonly drills: readonly DrillResult[];
  /** Scratch directories and VMs of crashed drills removed at the start. */
  readonly leftovers_removed: readonly string[];
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}

export function drillReport(o: Omit<DrillReport, "format_version" | "ok" | "problems">): DrillReport {
  const problems = [
    ...(o.interrupted ? ["the drill was interrupted: its results are incomplete"] : []),
    ...o.drills.flatMap((d) => d.problems),
  ];
  return { format_version: 1, ...o, ok: problems.length === 0 && o.drills.length > 0, problems };
}

/** backups/reports/drill-2026-12-01T21-30-00Z.* */
export const reportBase = (startedAt: string) => `drill-${startedAt.replace(/\.\d+Z$/, "Z").replaceAll(":", "-")}`;

const dur = (s: number | undefined) => (s === undefined ? "-" : s < 60 ? `${s.toFixed(1)}s` : formatDuration(s));
const esc = (s: string) => s.replaceAll("|", "\\|").replaceAll("\n", " ");

function phasesText(r: RestoreOutcome): string {
  const p = r.phases;
  if (!p) return "-";
  return `${dur(r.rtoSec)} = copy ${dur(p.copySec)} (${(p.bytes / 1_048_576).toFixed(0)} MB, ${p.mbPerSec} MB/s) + start ${dur(p.startSec)} + replay ${dur(p.replaySec)} + checks ${dur(p.checksSec)}`;
}

function vmPhasesText(r: VmRestoreOutcome): string {
  const p = r.phases;
  if (!p) return "-";
  return `${dur(r.rtoSec)} = restore ${dur(p.restoreSec)} + start ${dur(p.startSec)} + agent ${dur(p.agentSec)} + probes ${dur(p.probesSec)}`;
}

/** A VM restore's point, for a person: which backup of which VM, where the copy ran. */
const vmPoint = (x: VmRestoreOutcome) =>
  `${x.vm}${x.vmid ? ` (${x.vmid})` : ""}: ${x.which} backup ${x.backupAt ?? "-"}${x.seed !== undefined ? ` (random pick of ${x.candidates} older, seed ${x.seed})` : ""}${x.scratchVmid ? ` -> scratch VM ${x.scratchVmid} on ${x.vlan}` : ""}`;

const checksText = (checks: readonly { ok: boolean; name: string; detail: string }[]) =>
  checks.map((c) => `${c.ok ? "ok" : "FAILED"} ${c.name}${c.ok ? "" : `: ${c.detail}`}`).join("<br>") || "-";

/** The Markdown report (the chart file name relative to it). */
export function formatMarkdown(r: DrillReport, chartFile: string): string {
  const rows = [
    "| target | restored point | RPO achieved / policy | RTO achieved / policy (phases) | checks | verdict |",
    "|---|---|---|---|---|---|",
  ];
  for (const d of r.drills) {
    if (!d.restores.length)
      rows.push(`| ${d.target} | - | - / ${dur(d.rpoPolicySec)} | - / ${dur(d.rtoPolicySec)} | - | **FAILED** |`);
    if (d.kind === "vm") {
      for (const x of d.restores) {
        const rpo = x.which === "newest" ? `${dur(x.rpoSec)} / ${dur(d.rpoPolicySec)}` : "-";
        rows.push(
          `| ${d.target} | ${esc(vmPoint(x))} | ${rpo} | ${esc(`${vmPhasesText(x)} / ${dur(d.rtoPolicySec)}`)} | ${esc(checksText(x.checks))} | ${x.ok ? "ok" : "**FAILED**"} |`,
        );
      }
      continue;
    }
    for (const x of d.restores) {
      const rpo = x.to === "latest" ? `${dur(x.rpoSec)} / ${dur(d.rpoPolicySec)}` : "-";
      rows.push(
        `| ${d.target} | ${esc(`${x.repository} (repo${x.repoIndex}): ${x.point}${x.backup ? `, backup ${x.backup}` : ""}`)} | ${rpo} | ${esc(`${phasesText(x)} / ${dur(d.rtoPolicySec)}`)} | ${esc(checksText(x.checks))} | ${x.ok ? "ok" : "**FAILED**"} |`,
      );
    }
  }
  const lines = [
    `# Restore drill ${r.run}`,
    "",
    `${r.started_at} to ${r.finished_at}: **${r.ok ? "every drill passed and met its policy" : "FAILED"}**`,
    "",
    ...rows,
    "",
    ...r.drills.map(
      (d) =>
        `- ${d.target}: RPO ${dur(d.rpoSec)} (policy ${dur(d.rpoPolicySec)}), RTO ${dur(d.rtoSec)} (policy ${dur(d.rtoPolicySec)}), ${untouched(d)}: **${d.ok ? "passed" : "failed"}**`,
    ),
    ...(r.problems.length ? ["", "## Problems", "", ...r.problems.map((p) => `- ${p}`)] : []),
    ...(r.warnings.length ? ["", "## Warnings", "", ...r.warnings.map((w) => `- ${w}`)] : []),
    ...(r.leftovers_removed.length
      ? ["", `Removed leftovers of crashed drills: ${r.leftovers_removed.join(", ")}`]
      : []),
    "",
    `![RPO and RTO over past drills](${chartFile})`,
    "",
  ];
  return lines.join("\n");
}

const untouched = (d: DrillResult) =>
  d.kind === "vm"
    ? `production VMs ${d.productionChanged.length ? `CHANGED (${d.productionChanged.join(", ")})` : "untouched"}`
    : `production repositories ${d.foreignFiles.length ? "CHANGED" : "untouched"}`;

/** The table for a terminal (the same rows, aligned). */
export function formatTable(r: DrillReport): string {
  const rows: string[][] = [["TARGET", "RESTORE", "RPO / POLICY", "RTO / POLICY", "CHECKS", "VERDICT"]];
  for (const d of r.drills) {
    if (d.kind === "vm") {
      for (const x of d.restores) {
        rows.push([
          d.target,
          `${x.vm} ${x.which}${x.scratchVmid ? ` -> ${x.scratchVmid}` : ""}`,
          x.which === "newest" ? `${dur(x.rpoSec)} / ${dur(d.rpoPolicySec)}` : "-",
          `${dur(x.rtoSec)} / ${dur(d.rtoPolicySec)}`,
          `${x.checks.filter((c) => c.ok).length}/${x.checks.length} ok`,
          x.ok ? "ok" : "FAILED",
        ]);
      }
      continue;
    }
    for (const x of d.restores) {
      rows.push([
        d.target,
        `${x.repository} ${x.to}`,
        x.to === "latest" ? `${dur(x.rpoSec)} / ${dur(d.rpoPolicySec)}` : "-",
        `${dur(x.rtoSec)} / ${dur(d.rtoPolicySec)}`,
        `${x.checks.filter((c) => c.ok).length}/${x.checks.length} ok`,
        x.ok ? "ok" : "FAILED",
      ]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const table = rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join("  "));
  return [
    ...table,
    "",
    ...r.problems.map((p) => `FAILED ${p}`),
    ...r.warnings.map((w) => `warning: ${w}`),
    r.ok
      ? `every drill passed and met its policy (${r.drills.length} target(s))`
      : `${r.problems.length} problem(s): see the report`,
  ].join("\n");
}
