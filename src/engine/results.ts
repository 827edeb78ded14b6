// What a run did, per host and per step: the data behind progress lines, the
// recap, the JSON report and the audit log.
import type { Change } from "./types.ts";

export type StepStatus = "ok" | "changed" | "failed" | "skipped" | "unreachable";

export interface StepResult {
  play: string;
  host: string;
  id: string;
  role: string;
  status: StepStatus;
  /** What differed (plan) or what was changed (apply). */
  changes: Change[];
  /** Why nothing was done (ok), why it was not run (skipped), or the error (failed). */
  reason?: string;
  /** Error hint / command for failed steps. */
  hint?: string;
  /** Shown even for an ok step (Resource.note), e.g. "3 upgrades pending". */
  note?: string;
  durationMs: number;
}

export type HostStatus = "ok" | "changed" | "failed" | "unreachable" | "interrupted";

export interface HostSummary {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: number;
  status: HostStatus;
  roundTrips: number;
}

export function summarize(results: StepResult[], host: string, interrupted: boolean, roundTrips: number): HostSummary {
  const mine = results.filter((r) => r.host === host);
  const count = (s: StepStatus) => mine.filter((r) => r.status === s).length;
  const s = {
    ok: count("ok"),
    changed: count("changed"),
    failed: count("failed"),
    skipped: count("skipped"),
    unreachable: count("unreachable"),
  };
  const status: HostStatus = s.unreachable
    ? "unreachable"
    : s.failed
      ? "failed"
      : interrupted
        ? "interrupted"
        : s.changed
          ? "changed"
          : "ok";
  return { ...s, status, roundTrips };
}
