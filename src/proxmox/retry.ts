// Which Proxmox failures are worth another try. PVE answers almost every
// handler failure with HTTP 500 (a Perl `die`), permanent ones included
// ("does not exist", "already exists"), so a 500 is transient only when its
// message says so: a lock wait that timed out, a cluster filesystem hiccup.
import { ExitCode, LabError } from "../errors.ts";
import { ProxmoxApiError } from "./errors.ts";

export interface RetryPolicy {
  /** Total tries, the first included (default 4). */
  readonly attempts?: number;
  /** First backoff in ms, doubled each time with jitter (default 250). */
  readonly baseMs?: number;
  /** Backoff ceiling (default 5000). */
  readonly maxMs?: number;
}

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ECONNABORTED",
  "ESOCKETTIMEDOUT",
]);
const TRANSIENT_STATUS = new Set([502, 503, 504, 595, 596]);
const TRANSIENT_500 = [
  /got timeout/i,
  /can't lock file/i,
  /cfs-lock .* (timeout|error)/i,
  /unable to (create|open) .*lock/i,
  /temporarily unavailable/i,
  /try again later/i,
];
const ALREADY = /already exists|already defined|already exist\b/i;

export function isTransient(err: unknown): boolean {
  if (!(err instanceof ProxmoxApiError)) return false;
  if (err.status === 0) return NETWORK_CODES.has(err.errno ?? "");
  if (TRANSIENT_STATUS.has(err.status)) return true;
  return err.status === 500 && TRANSIENT_500.some((re) => re.test(err.reason));
}

/** "already exists": after a retry this means the first, unanswered try did the work. */
export function isAlreadyExists(err: unknown): boolean {
  return (
    err instanceof ProxmoxApiError &&
    (ALREADY.test(err.reason) || Object.values(err.errors).some((e) => ALREADY.test(e)))
  );
}

export interface RetryHooks {
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  readonly signal?: AbortSignal;
}

export const ALREADY_DONE = Symbol("already done");

/**
 * Run `fn` until it succeeds, fails permanently or runs out of attempts.
 * Resolves ALREADY_DONE when a retry is answered "already exists".
 */
export async function withRetry<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy = {},
  hooks: RetryHooks = {},
): Promise<T | typeof ALREADY_DONE> {
  const attempts = policy.attempts ?? 4;
  const sleep = hooks.sleep ?? abortableSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt > 1 && isAlreadyExists(err)) return ALREADY_DONE;
      if (attempt >= attempts || !isTransient(err) || hooks.signal?.aborted) throw err;
      const delay =
        Math.min(policy.maxMs ?? 5000, (policy.baseMs ?? 250) * 2 ** (attempt - 1)) * (0.75 + Math.random() / 2);
      hooks.onRetry?.(err, attempt, Math.round(delay));
      await sleep(delay, hooks.signal);
    }
  }
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new LabError("interrupted", ExitCode.interrupted));
    const timer = setTimeout(() => (signal?.removeEventListener("abort", onAbort), resolve()), ms);
    const onAbort = (): void => (clearTimeout(timer), reject(new LabError("interrupted", ExitCode.interrupted)));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
