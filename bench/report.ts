// The bench's tables (Markdown, printed and written to bench/results/latest.md):
// median of the repetitions, with min-max, the ratios and the targets.
import type { Measurement } from "./measure.ts";
import type { Outcome, Tool } from "./tools.ts";

export type Phase = "first" | "noop";

/** Everything measured for one host count. */
export interface SizeResult {
  hosts: number;
  /** Every floor sample (one right before each tool run). */
  floor: Outcome[];
  /** The floor sample taken right before each run, index for index with `runs`. */
  floorBefore: Record<Tool, Record<Phase, Outcome[]>>;
  runs: Record<Tool, Record<Phase, Outcome[]>>;
  restartMs: number[];
  crossCheck: string[];
}

export const median = (xs: number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const secs = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
const mb = (kb: number) => (kb / 1024).toFixed(0);
const times = (os: Outcome[]) => os.map((o) => o.m.wallMs);
const wall = (os: Outcome[]) => median(times(os));

function timeCell(os: Outcome[]): string {
  const t = times(os);
  if (t.length === 0) return "-";
  return t.length > 1 ? `${secs(median(t))} s (${secs(Math.min(...t))}–${secs(Math.max(...t))})` : `${secs(t[0]!)} s`;
}

const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}x`;
/** Median of run[i] / floor[i]: each run against the floor measured just before it (robust to load drift). */
const overFloor = (runs: Outcome[], floors: Outcome[]) =>
  median(runs.map((o, i) => o.m.wallMs / (floors[i]?.m.wallMs ?? NaN)));
const mark = (ok: boolean) => (ok ? "✅" : "❌");

/** Sum of changed over hosts, per repetition: "175" or "175, 175, 0" when they differ. */
function changedCell(os: Outcome[], hosts: number): string {
  const per = os.map((o) => {
    const reported = Object.keys(o.changed).length;
    const total = Object.values(o.changed).reduce((a, b) => a + b, 0);
    return reported === hosts ? String(total) : `${total} (${reported}/${hosts} hosts reported)`;
  });
  return [...new Set(per)].join(", ");
}

function roundTripCell(os: Outcome[]): string {
  const all = os.flatMap((o) => Object.values(o.roundTrips ?? {}));
  if (all.length === 0) return "-";
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  return lo === hi ? String(lo) : `${lo}–${hi}`;
}

export function timeTable(results: SizeResult[]): string {
  const rows = [
    "| hosts | run | floor (ssh true ×N) | lab | ansible-playbook | ansible ÷ lab | lab ÷ floor (paired) |",
    "|---:|---|---:|---:|---:|---:|---:|",
  ];
  for (const r of results) {
    for (const phase of ["first", "noop"] as const) {
      const lab = r.runs.lab[phase];
      const ans = r.runs.ansible[phase];
      rows.push(
        `| ${r.hosts} | ${phase === "first" ? "first run" : "no-op run"} | ${timeCell(r.floor)} | ${timeCell(lab)} | ${timeCell(ans)} | ${ratio(wall(ans), wall(lab))} | ${overFloor(lab, r.floorBefore.lab[phase]).toFixed(1)}x |`,
      );
    }
  }
  return rows.join("\n");
}

export function targetLines(results: SizeResult[]): string {
  return results
    .map((r) => {
      const lab = wall(r.runs.lab.noop);
      const speedup = wall(r.runs.ansible.noop) / lab;
      const floorRatio = overFloor(r.runs.lab.noop, r.floorBefore.lab.noop);
      return (
        `- ${r.hosts} hosts, no-op run: lab is ${speedup.toFixed(1)}x faster than Ansible (target ≥ 10x) ${mark(speedup >= 10)}; ` +
        `${floorRatio.toFixed(2)}x the floor (target ≤ 2x) ${mark(floorRatio <= 2)}`
      );
    })
    .join("\n");
}

export function memoryTable(results: SizeResult[]): string {
  const rows = [
    "| hosts | run | tool | CPU (user+sys, s) | largest process, peak RSS (MB) | whole tree, peak Σ RSS (MB) | whole tree, peak Σ PSS (MB) | processes (peak) |",
    "|---:|---|---|---:|---:|---:|---:|---:|",
  ];
  const med = (os: Outcome[], f: (m: Measurement) => number) => median(os.map((o) => f(o.m)));
  for (const r of results) {
    const lines: [string, string, Outcome[]][] = [
      ["-", "floor", r.floor],
      ["first run", "lab", r.runs.lab.first],
      ["first run", "ansible", r.runs.ansible.first],
      ["no-op run", "lab", r.runs.lab.noop],
      ["no-op run", "ansible", r.runs.ansible.noop],
    ];
    for (const [phase, tool, os] of lines) {
      rows.push(
        `| ${r.hosts} | ${phase} | ${tool} | ${med(os, (m) => m.cpuS).toFixed(2)} | ${mb(med(os, (m) => m.maxRssKb))} | ${mb(med(os, (m) => m.treeRssKb))} | ${mb(med(os, (m) => m.treePssKb))} | ${Math.round(med(os, (m) => m.treeProcs))} |`,
      );
    }
  }
  return rows.join("\n");
}

export function checkTable(results: SizeResult[]): string {
  const rows = [
    "| hosts | tool | changed, first run (Σ hosts) | changed, no-op run | lab round trips per host (first / no-op) | lab engine time, no-op (median) | lab process overhead, no-op (wall − engine) |",
    "|---:|---|---:|---:|---:|---:|---:|",
  ];
  for (const r of results) {
    for (const tool of ["lab", "ansible"] as const) {
      const { first, noop } = r.runs[tool];
      const engine = median(noop.map((o) => o.engineMs ?? NaN));
      const overhead = median(noop.map((o) => o.m.wallMs - (o.engineMs ?? NaN)));
      rows.push(
        `| ${r.hosts} | ${tool} | ${changedCell(first, r.hosts)} | ${changedCell(noop, r.hosts)} | ${tool === "lab" ? `${roundTripCell(first)} / ${roundTripCell(noop)}` : "-"} | ${tool === "lab" ? `${secs(engine)} s` : "-"} | ${tool === "lab" ? `${secs(overhead)} s` : "-"} |`,
      );
    }
  }
  return rows.join("\n");
}
