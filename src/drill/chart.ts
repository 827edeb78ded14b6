// The chart of RPO and RTO over past drills (one SVG next to each Markdown
// report), drawn from the JSON reports: per target a line of achieved values
// and the policy as a dashed line, in two panels. Plain SVG, no dependency.
import type { DrillReport } from "./report.ts";

export interface ChartPoint {
  readonly target: string;
  readonly at: number;
  readonly rpoSec?: number;
  readonly rtoSec?: number;
  readonly rpoPolicySec: number;
  readonly rtoPolicySec: number;
}

export const chartPoints = (reports: readonly DrillReport[]): ChartPoint[] =>
  reports
    .flatMap((r) =>
      r.drills.map((d) => ({
        target: d.target,
        at: Date.parse(r.started_at),
        ...(d.rpoSec !== undefined ? { rpoSec: d.rpoSec } : {}),
        ...(d.rtoSec !== undefined ? { rtoSec: d.rtoSec } : {}),
        rpoPolicySec: d.rpoPolicySec,
        rtoPolicySec: d.rtoPolicySec,
      })),
    )
    .sort((a, b) => a.at - b.at);

const W = 640,
  PANEL = 200,
  PAD = 48;
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
const xml = (s: string) =>
  s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
const n = (v: number) => (Math.round(v * 10) / 10).toString();

function panel(
  points: readonly ChartPoint[],
  key: "rpo" | "rto",
  top: number,
  targets: readonly string[],
  t0: number,
  t1: number,
): string {
  const val = (p: ChartPoint) => (key === "rpo" ? p.rpoSec : p.rtoSec);
  const pol = (p: ChartPoint) => (key === "rpo" ? p.rpoPolicySec : p.rtoPolicySec);
  const max = Math.max(1, ...points.map((p) => Math.max(val(p) ?? 0, pol(p)))) * 1.1;
  const x = (t: number) => PAD + (t1 > t0 ? ((t - t0) / (t1 - t0)) * (W - 2 * PAD) : (W - 2 * PAD) / 2);
  const y = (v: number) => top + PANEL - (v / max) * PANEL;
  let out = `<text x="${PAD}" y="${top - 8}" font-size="13" font-weight="bold">${key.toUpperCase()} achieved (s), policy dashed</text>`;
  out += `<line x1="${PAD}" y1="${top + PANEL}" x2="${W - PAD}" y2="${top + PANEL}" stroke="#888"/><line x1="${PAD}" y1="${top}" x2="${PAD}" y2="${top + PANEL}" stroke="#888"/>`;
  out += `<text x="${PAD - 4}" y="${top + 4}" font-size="10" text-anchor="end">${n(max)}</text><text x="${PAD - 4}" y="${top + PANEL}" font-size="10" text-anchor="end">0</text>`;
  targets.forEach((t, i) => {
    const color = COLORS[i % COLORS.length]!;
    const mine = points.filter((p) => p.target === t);
    const last = mine[mine.length - 1];
    if (last)
      out += `<line x1="${PAD}" y1="${n(y(pol(last)))}" x2="${W - PAD}" y2="${n(y(pol(last)))}" stroke="${color}" stroke-dasharray="4 3"/>`;
    const got = mine.filter((p) => val(p) !== undefined);
    if (got.length > 1)
      out += `<polyline fill="none" stroke="${color}" stroke-width="2" points="${got.map((p) => `${n(x(p.at))},${n(y(val(p)!))}`).join(" ")}"/>`;
    for (const p of got)
      out += `<circle cx="${n(x(p.at))}" cy="${n(y(val(p)!))}" r="3" fill="${color}"><title>${xml(`${t} ${new Date(p.at).toISOString()}: ${n(val(p)!)} s`)}</title></circle>`;
  });
  return out;
}

export function chartSvg(points: readonly ChartPoint[]): string {
  const targets = [...new Set(points.map((p) => p.target))].sort();
  const t0 = Math.min(...points.map((p) => p.at));
  const t1 = Math.max(...points.map((p) => p.at));
  const H = 2 * PANEL + 3 * PAD + 20 * Math.max(1, targets.length);
  const legend = targets
    .map(
      (t, i) =>
        `<rect x="${PAD}" y="${2 * PANEL + 2 * PAD + 20 * i + 8}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${PAD + 18}" y="${2 * PANEL + 2 * PAD + 20 * i + 18}" font-size="12">${xml(t)}</text>`,
    )
    .join("");
  const span = points.length
    ? `${new Date(t0).toISOString().slice(0, 10)} .. ${new Date(t1).toISOString().slice(0, 10)} (${points.length} drill result(s))`
    : "no drills yet";
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    panel(points, "rpo", PAD, targets, t0, t1),
    panel(points, "rto", 2 * PAD + PANEL, targets, t0, t1),
    legend,
    `<text x="${W - PAD}" y="${H - 8}" font-size="10" text-anchor="end">${xml(span)}</text>`,
    "</svg>",
    "",
  ].join("\n");
}
