// What a run has done so far and which steps are running right now, kept as
// the reporter sees it: the one place that can still say so when a second
// signal stops the process in the middle of everything.
import { REPORT_FORMAT_VERSION } from "../engine/output.ts";
import { appendAuditSync, type AuditEntry } from "../engine/audit.ts";
import type { StepResult } from "../engine/results.ts";
import type { Reporter } from "../engine/runner.ts";
import { redact } from "../secrets/secret.ts";

export interface InFlight {
  host: string;
  resource: string;
}

export class RunTracker implements Reporter {
  readonly results: StepResult[] = [];
  private readonly running = new Map<string, string>();

  constructor(private readonly inner: Reporter) {}

  playStart(play: string, hosts: string[]): void {
    this.inner.playStart(play, hosts);
  }

  stepStart(host: string, id: string): void {
    this.running.set(host, id);
    this.inner.stepStart(host, id);
  }

  step(result: StepResult): void {
    if (this.running.get(result.host) === result.id) this.running.delete(result.host);
    this.results.push(result);
    this.inner.step(result);
  }

  playEnd(): Promise<void> {
    return this.inner.playEnd();
  }

  /** Steps started and not finished, by host. */
  inFlight(): InFlight[] {
    return [...this.running].map(([host, resource]) => ({ host, resource }));
  }
}

export interface AbortContext {
  tracker: RunTracker;
  hosts: readonly string[];
  /** Audit entry fields of this run (argv, playbook, check, limit); undefined: no audit record (a plan). */
  audit?: Omit<AuditEntry, "hosts" | "changes" | "outcome" | "exitCode" | "durationMs" | "inFlight">;
  root: string;
  startedAt: number;
  json: boolean;
  stdout: { write(text: string): unknown };
}

/** The one-line recap of an aborted run. */
export function abortRecap(inFlight: readonly InFlight[], changes: number): string {
  const mid = inFlight.length
    ? `hosts mid-step: ${inFlight.map((f) => `${f.host} (${f.resource})`).join(", ")}`
    : "no host was mid-step";
  return redact(
    `ABORTED (second signal): stopped at once; ${mid}; ${changes} change(s) made before. Run apply again to converge.`,
  );
}

/** Synchronous (the process exits right after): the audit record and the recap line of an aborted run. */
export function recordAbort(a: AbortContext): void {
  const inFlight = a.tracker.inFlight();
  const changes = a.tracker.results.flatMap((s) =>
    s.status === "changed" ? s.changes.map((c) => ({ host: s.host, resource: s.id, summary: c.summary })) : [],
  );
  if (a.audit) {
    appendAuditSync(
      {
        ...a.audit,
        hosts: [...a.hosts],
        changes,
        outcome: "aborted",
        exitCode: 130,
        durationMs: Math.round(performance.now() - a.startedAt),
        inFlight,
      },
      { root: a.root },
    );
  }
  const recap = abortRecap(inFlight, changes.length);
  a.stdout.write(
    a.json
      ? `${JSON.stringify({ format_version: REPORT_FORMAT_VERSION, aborted: true, exitCode: 130, inFlight, recap })}\n`
      : `\n${recap}\n`,
  );
}
