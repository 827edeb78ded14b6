// What a finished run prints: the changes per host (with diffs), an Ansible-like
// recap, and the JSON report. All text here is already redacted by the engine.
import { styleText } from "node:util";
import { isSecret } from "../secrets/secret.ts";
import type { RunResult } from "./runner.ts";
import { SENSITIVE } from "./types.ts";

/** A unified diff's lines coloured as git does: additions green, removals red, hunks cyan. */
export function colorDiff(diff: string): string {
  // The caller decided (useColor): styleText must not second-guess it from process.stdout.
  const style = (f: "bold" | "green" | "red" | "cyan", l: string) => styleText(f, l, { validateStream: false });
  return diff
    .split("\n")
    .map((l) =>
      l.startsWith("+++") || l.startsWith("---")
        ? style("bold", l)
        : l.startsWith("+")
          ? style("green", l)
          : l.startsWith("-")
            ? style("red", l)
            : l.startsWith("@@")
              ? style("cyan", l)
              : l,
    )
    .join("\n");
}

/** `color`: ANSI colours for diffs (a terminal without NO_COLOR or --no-color; see src/cli/color.ts). */
export function formatChanges(r: RunResult, verbose: boolean, color = false): string {
  const out: string[] = [];
  for (const host of Object.keys(r.hosts)) {
    const mine = r.results.filter((s) => s.host === host && (s.status !== "ok" || s.note || verbose));
    if (mine.length === 0) continue;
    out.push(`\n${host}:`);
    for (const s of mine) {
      const mark = { changed: r.check ? "~" : "*", ok: "=", failed: "!", unreachable: "!", skipped: "-" }[s.status];
      if (s.changes.length === 0)
        out.push(
          `  ${mark} ${s.id}${s.note ? `: ${s.note}` : s.reason ? `: ${s.reason}` : ""}${s.hint ? `\n      ${s.hint}` : ""}`,
        );
      for (const c of s.changes) {
        out.push(`  ${mark} ${s.id}: ${c.summary}${c.pending ? " (pending: takes effect after a reboot)" : ""}`);
        if (c.diff)
          out.push(
            (color ? colorDiff(c.diff) : c.diff)
              .split("\n")
              .map((l) => `      ${l}`)
              .join("\n"),
          );
      }
      if (s.changes.length && s.reason) out.push(`      ${s.reason}`); // a changed step cut short by an interrupt
    }
  }
  return out.join("\n");
}

export function formatRecap(r: RunResult): string {
  const width = Math.max(4, ...Object.keys(r.hosts).map((h) => h.length));
  const verb = r.check ? "would change" : "changed";
  const lines = Object.entries(r.hosts).map(
    ([h, s]) =>
      `${h.padEnd(width)} : ok=${s.ok} ${verb}=${s.changed} failed=${s.failed} unreachable=${s.unreachable} skipped=${s.skipped}`,
  );
  const total = Object.values(r.hosts).reduce((n, s) => n + s.changed, 0);
  const head = `\n${r.check ? "PLAN" : "RECAP"} (${r.playbook}, ${(r.durationMs / 1000).toFixed(2)} s)${r.interrupted ? " — INTERRUPTED: steps marked skipped were not run" : ""}`;
  return `${head}\n${lines.join("\n")}\n${r.check ? `${total} change(s) planned; nothing was changed.` : `${total} change(s) made.`}`;
}

/** `--json` (docs/schema/report.schema.json); bump on an incompatible change. */
export const REPORT_FORMAT_VERSION = 1;

/** A value in the report: a Secret (at any depth of an object), or any value of a sensitive change, as a marker. */
export const shown = (v: unknown, sensitive: boolean | undefined): unknown => (sensitive ? SENSITIVE : marked(v));
const marked = (v: unknown): unknown =>
  isSecret(v)
    ? SENSITIVE
    : Array.isArray(v)
      ? v.map(marked)
      : v !== null && typeof v === "object"
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, marked(x)]))
        : v;

export function jsonReport(r: RunResult): string {
  return JSON.stringify(
    {
      format_version: REPORT_FORMAT_VERSION,
      playbook: r.playbook,
      mode: r.check ? "plan" : "apply",
      exitCode: r.exitCode,
      interrupted: r.interrupted,
      durationMs: Math.round(r.durationMs),
      hosts: r.hosts,
      steps: r.results.map((s) => ({
        ...s,
        changes: s.changes.map(({ before, after, sensitive, ...c }) => ({
          ...c,
          ...(before !== undefined ? { before: shown(before, sensitive) } : {}),
          ...(after !== undefined ? { after: shown(after, sensitive) } : {}),
        })),
        durationMs: Math.round(s.durationMs),
      })),
    },
    null,
    2,
  );
}
