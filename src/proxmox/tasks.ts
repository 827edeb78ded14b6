// Following a PVE worker task (UPID) to its end: poll with backoff, tolerate
// the brief "no such task" right after the start, give up after a timeout,
// and on failure show the last lines of the task log. `WARNINGS: n` is judged
// per task type: a restore or backup with warnings is not a clean success.
import { LabError } from "../errors.ts";
import { ProxmoxApiError, ProxmoxTaskError } from "./errors.ts";
import type { PvePaths } from "./api-types/pve.ts";
import { abortableSleep } from "./retry.ts";
import { type Send, type TypedApi, typedApi } from "./typed.ts";

export interface Upid {
  readonly node: string;
  readonly pid: number;
  readonly pstart: number;
  readonly starttime: number;
  readonly type: string;
  readonly id: string;
  /** user@realm or user@realm!token */
  readonly user: string;
}

const PVE_UPID = /^UPID:([a-zA-Z0-9-]+):([0-9A-F]{8}):([0-9A-F]{8,9}):([0-9A-F]{8}):([^:\s]+):([^:\s]*):([^:\s]+):$/;
const PBS_UPID =
  /^UPID:([a-zA-Z0-9-]+):([0-9A-F]{8}):([0-9A-F]{8,9}):[0-9A-F]{8,16}:([0-9A-F]{8}):([^:\s]+):([^:\s]*):([^:\s]+):$/;

export function parseUpid(upid: string): Upid | undefined {
  const m = PVE_UPID.exec(upid) ?? PBS_UPID.exec(upid);
  if (!m) return undefined;
  return {
    node: m[1]!,
    pid: parseInt(m[2]!, 16),
    pstart: parseInt(m[3]!, 16),
    starttime: parseInt(m[4]!, 16),
    type: m[5]!,
    id: m[6]!,
    user: m[7]!,
  };
}

export type WarningPolicy = "ok" | "fail";

/** Task types whose warnings mean the result cannot be trusted (override per call). */
export const DEFAULT_WARNING_POLICY: Readonly<Record<string, WarningPolicy>> = {
  vzdump: "fail",
  qmrestore: "fail",
  download: "fail",
};

export interface TaskWaitOptions {
  /** Give up after this long (default 15 min); the task keeps running on the server. */
  readonly timeoutMs?: number;
  /** First poll interval (default 200 ms), growing by 1.5x up to maxPollMs (default 5 s). */
  readonly pollMs?: number;
  readonly maxPollMs?: number;
  /** How `WARNINGS: n` counts, per task type; merged over DEFAULT_WARNING_POLICY; others are "ok". */
  readonly warnings?: Readonly<Record<string, WarningPolicy>>;
  /** Log lines shown with a failure (default 12). */
  readonly tailLines?: number;
  readonly signal?: AbortSignal;
}

export interface TaskResult {
  readonly upid: string;
  readonly exitstatus: string;
  /** Log lines of an accepted `WARNINGS: n` task. */
  readonly warnings: readonly string[];
}

/** The part of the client waiting needs: one API call (with the client's retries). */
export interface TaskApi {
  readonly envelope: Send;
}

/** The task calls, typed from the PVE schema (PBS has the same two paths and parameters). */
type Tasks = TypedApi<Pick<PvePaths, "/nodes/{node}/tasks/{upid}/status" | "/nodes/{node}/tasks/{upid}/log">>;
/** A running task and the typed calls to follow it. */
interface Followed {
  readonly api: Tasks;
  readonly node: string;
  readonly upid: string;
}

/** How long "no such task" right after the start is tolerated (the worker may not have written its status yet). */
const STARTUP_GRACE_MS = 5000;

export async function waitForTask(api: TaskApi, upid: string, opts: TaskWaitOptions = {}): Promise<TaskResult> {
  const parsed = parseUpid(upid);
  if (!parsed) throw new LabError(`'${upid}' is not a Proxmox task id (UPID)`);
  const followed: Followed = {
    api: typedApi((m, path, params) => api.envelope(m, path, params)),
    node: parsed.node,
    upid,
  };
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? 15 * 60_000;
  let delay = opts.pollMs ?? 200;
  for (;;) {
    let status: { status?: string; exitstatus?: string } | undefined;
    try {
      status = await followed.api.get("/nodes/{node}/tasks/{upid}/status", { node: parsed.node, upid });
    } catch (err) {
      const young = Date.now() - started < STARTUP_GRACE_MS;
      if (!(young && err instanceof ProxmoxApiError && (err.status === 400 || err.status === 500))) throw err;
    }
    if (status?.status === "stopped") return judge(followed, parsed, status.exitstatus ?? "unexpected status", opts);
    if (Date.now() - started > timeoutMs) {
      throw new ProxmoxTaskError(
        upid,
        "timeout",
        [],
        `${describe(parsed)} still running after ${Math.round(timeoutMs / 1000)} s`,
        `the task goes on in Proxmox; follow it in the GUI (task ${upid}) or raise the timeout`,
      );
    }
    await abortableSleep(delay, opts.signal);
    delay = Math.min(delay * 1.5, opts.maxPollMs ?? 5000);
  }
}

async function judge(followed: Followed, task: Upid, exitstatus: string, opts: TaskWaitOptions): Promise<TaskResult> {
  const { upid } = followed;
  if (exitstatus === "OK") return { upid, exitstatus, warnings: [] };
  const tail = await logTail(followed, opts.tailLines ?? 12);
  if (/^WARNINGS: \d+$/.test(exitstatus)) {
    const policy = { ...DEFAULT_WARNING_POLICY, ...opts.warnings }[task.type] ?? "ok";
    const warnings = tail.filter((l) => /^(WARN|WARNING)\b|warning/i.test(l) && !l.startsWith("TASK "));
    if (policy === "ok") return { upid, exitstatus, warnings };
  }
  const shown = tail.map((l) => `\n    ${l}`).join("");
  throw new ProxmoxTaskError(
    upid,
    exitstatus,
    tail,
    `${describe(task)} failed: ${exitstatus}${shown ? `\n  task log (last lines):${shown}` : ""}`,
    `full log: Proxmox GUI > ${task.node} > Task History, task ${upid}`,
  );
}

const describe = (t: Upid): string => `task ${t.type}${t.id ? ` ${t.id}` : ""} on ${t.node}`;

/** The last `n` log lines: one call to learn the total, one for the tail. */
async function logTail({ api, node, upid }: Followed, n: number): Promise<string[]> {
  try {
    const first = await api.envelope("/nodes/{node}/tasks/{upid}/log", { node, upid, start: 0, limit: n });
    const total = Number(first.extra.total ?? 0);
    const page =
      total > n
        ? await api.envelope("/nodes/{node}/tasks/{upid}/log", { node, upid, start: total - n, limit: n })
        : first;
    return (page.data ?? []).map((l) => l.t);
  } catch {
    return []; // the failure itself matters more than its log
  }
}
