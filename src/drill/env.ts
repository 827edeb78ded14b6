// What a drill needs from the run context: commands on inventory hosts, the
// clock, cancellation and progress lines. Steps run through `step`, which turns
// a non-zero exit into a DrillError naming the host and command, and gives up
// waiting when the run is interrupted (cleanup then removes what was started).
import { errorMessage } from "../errors.ts";
import type { ExecResult } from "../transport/types.ts";

export interface DrillEnv {
  exec(host: string, command: string, opts?: { timeoutMs?: number }): Promise<ExecResult>;
  readonly signal: AbortSignal;
  now(): Date;
  progress(line: string): void;
  /** Tests only: called with the copy once it is out of recovery, before its checks. */
  readonly beforeChecks?: (copy: { host: string; socketDir: string; port: number; dataDir: string }) => Promise<void>;
}

/** A drill step that failed: what, where, and the tool's last words. */
export class DrillError extends Error {
  override readonly name = "DrillError";
}

export class Interrupted extends Error {
  override readonly name = "Interrupted";
  constructor() {
    super("interrupted (SIGINT/SIGTERM)");
  }
}

const lastLines = (text: string, n = 3) => text.trim().split("\n").filter(Boolean).slice(-n).join(" | ");

/** Reject as soon as the signal fires (the remote command itself is stopped by cleanup, by its pid file). */
export function abortable<T>(signal: AbortSignal, p: Promise<T>): Promise<T> {
  if (signal.aborted) {
    p.catch(() => undefined); // it may still reject (an aborted API call): not an unhandled rejection
    return Promise.reject(new Interrupted());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Interrupted());
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e instanceof Error ? e : new Error(errorMessage(e)));
      },
    );
  });
}

/** Run a command; its stdout on success, a DrillError (host, what, last lines) otherwise. */
export async function step(
  env: DrillEnv,
  host: string,
  what: string,
  command: string,
  timeoutMs = 600_000,
): Promise<string> {
  const r = await abortable(env.signal, env.exec(host, command, { timeoutMs }));
  if (r.code !== 0)
    throw new DrillError(
      `${what} failed on ${host} (exit ${r.code}): ${lastLines(r.stderr || r.stdout) || "no output"}`,
    );
  return r.stdout;
}

export const sleep = (ms: number, signal: AbortSignal) =>
  abortable(signal, new Promise<void>((r) => setTimeout(r, ms)));

/** Poll until `done` returns a value, or fail after `timeoutMs` with `what`. */
export async function waitFor<T>(
  env: Pick<DrillEnv, "signal">,
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  everyMs = 500,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new DrillError(`${what}: still not done after ${Math.round(timeoutMs / 1000)} s`);
    await sleep(everyMs, env.signal);
  }
}

/** A SQL string literal. */
export const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;
/** A SQL identifier (schema.table quoted part by part). */
export const ident = (qualified: string) =>
  qualified
    .split(".")
    .map((p) => `"${p.replaceAll('"', '""')}"`)
    .join(".");
