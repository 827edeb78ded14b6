// The one error type of `lab`. Every failure a user can act on is a LabError
// carrying an exit code; only src/cli/ turns it into process.exitCode.

/** Documented exit codes (README "Exit codes"). */
export const ExitCode = {
  ok: 0,
  /** Internal error: a bug in lab (stack trace printed). */
  internal: 1,
  /** Bad input: inventory, playbook, vars, CLI usage. Nothing was contacted or changed. */
  badInput: 2,
  /** At least one host failed (a step errored or did not converge). */
  failed: 3,
  /** At least one host was unreachable (and none failed). */
  unreachable: 4,
  /** Another `lab` run holds the lab lock. */
  locked: 5,
  /** `lab backup`: at least one target breaches its policy (stale, lagging, missing WAL, unverifiable). */
  backupBreach: 6,
  /** `lab drill`: at least one drill failed or missed its policy's RPO/RTO. */
  drillFailed: 7,
  /** Interrupted by SIGINT/SIGTERM; the recap says what was done. */
  interrupted: 130,
  /** `lab plan --detailed-exitcode`: the plan has changes. */
  planHasChanges: 10,
  /** `lab apply FILE`: the saved plan no longer matches (a host drifted, or the project changed since); nothing was changed. */
  planStale: 11,
  /** `lab apply` on a terminal: the answer to "apply these changes?" was not yes; nothing was changed. */
  declined: 12,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface Where {
  file?: string;
  line?: number;
  col?: number;
  host?: string;
  command?: string;
}

export class LabError extends Error {
  override readonly name = "LabError";
  constructor(
    message: string,
    readonly code: ExitCode = ExitCode.failed,
    readonly where: Where = {},
    /** What the user should do next. */
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** One readable block: where, what, what to do. */
  format(): string {
    const w = this.where;
    const loc = w.file ? `${w.file}${w.line ? `:${w.line}${w.col ? `:${w.col}` : ""}` : ""}: ` : "";
    const host = w.host ? `[${w.host}] ` : "";
    const cmd = w.command ? `\n  command: ${w.command}` : "";
    const hint = this.hint ? `\n  hint: ${this.hint}` : "";
    return `${host}${loc}${this.message}${cmd}${hint}`;
  }
}

export const badInput = (message: string, where: Where = {}, hint?: string): LabError =>
  new LabError(message, ExitCode.badInput, where, hint);

/** The host could not be reached (connect, auth, host key, dropped connection). */
export class UnreachableError extends LabError {
  constructor(host: string, message: string, hint?: string, options?: { cause?: unknown; command?: string }) {
    super(
      message,
      ExitCode.unreachable,
      { host, ...(options?.command ? { command: options.command } : {}) },
      hint,
      options,
    );
  }
}

export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The host does not exist yet (a VM an earlier play creates): unreachable on apply, "known after apply" in a plan. */
export class NotCreatedYetError extends UnreachableError {}
