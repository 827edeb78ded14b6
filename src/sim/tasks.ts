// Worker tasks as pvedaemon runs them: the API call returns a UPID at once, the
// work happens "in the background" (after taskDelayMs per step), the log ends
// with TASK OK / TASK WARNINGS: n / TASK ERROR: msg and the status carries the
// exit status. Faults can make a task fail half-way (at its first step).
import type { AuthId } from "./auth.ts";
import type { Faults } from "./faults.ts";
import type { SimState, TaskRecord } from "./state.ts";

export interface TaskCtx {
  readonly upid: string;
  readonly log: (line: string) => void;
  /** A warning: counted into `WARNINGS: n`. */
  readonly warn: (line: string) => void;
  /** Let time pass (one step of the task). An injected task fault fires here. */
  readonly step: () => Promise<void>;
}

export interface TaskSpec {
  readonly node: string;
  readonly type: string;
  readonly id: string;
  readonly auth: AuthId;
  /** Undo the sync part when the worker fails (e.g. remove a half-made clone). */
  readonly onError?: () => void;
}

export type Worker = (t: TaskCtx) => Promise<void> | void;

const hex8 = (n: number): string => n.toString(16).toUpperCase().padStart(8, "0");
const MAX_KEPT = 1000;

/** Where a Tasks keeps its records: PVE's and PBS's task lists are separate. */
export interface TaskStore {
  readonly tasks: TaskRecord[];
  readonly counters: SimState["counters"];
}

export class Tasks {
  private readonly running = new Map<string, Promise<void>>();
  private readonly cancels = new Map<string, AbortController>();
  private readonly abort = new AbortController();

  constructor(
    private readonly state: TaskStore,
    private readonly save: () => void,
    private readonly delayMs: number,
    private readonly faults: Faults,
    /** PBS UPIDs carry a task id between pstart and starttime. */
    private readonly flavour: "pve" | "pbs" = "pve",
  ) {
    // Workers do not survive a simulator restart: like a crashed pvedaemon, their tasks end in error.
    for (const t of state.tasks) {
      if (t.status === "running") this.finish(t, "unexpected status");
    }
  }

  start(spec: TaskSpec, worker: Worker): string {
    const c = this.state.counters;
    const starttime = Math.floor(Date.now() / 1000);
    const pid = ++c.pid;
    const pstart = (c.pstart += 7);
    const taskId = this.flavour === "pbs" ? `${hex8(this.state.tasks.length)}:` : "";
    const upid = `UPID:${spec.node}:${hex8(pid)}:${hex8(pstart)}:${taskId}${hex8(starttime)}:${spec.type}:${spec.id}:${spec.auth.authid}:`;
    const record: TaskRecord = {
      upid,
      node: spec.node,
      type: spec.type,
      id: spec.id,
      user: spec.auth.userid,
      pid,
      pstart,
      starttime,
      status: "running",
      log: [],
      ...(spec.auth.tokenid ? { tokenid: spec.auth.tokenid } : {}),
    };
    this.state.tasks.push(record);
    if (this.state.tasks.length > MAX_KEPT) this.state.tasks.splice(0, this.state.tasks.length - MAX_KEPT);
    this.save();
    let warnings = 0;
    const own = new AbortController();
    this.cancels.set(upid, own);
    const signal = AbortSignal.any([this.abort.signal, own.signal]);
    const ctx: TaskCtx = {
      upid,
      log: (line) => void record.log.push(this.stamp(line)),
      warn: (line) => (warnings++, void record.log.push(this.stamp(`WARN: ${line}`))),
      step: async () => {
        await sleep(this.delayMs, signal);
        const fault = this.faults.takeTaskFault(spec.type);
        if (fault) throw new Error(fault);
      },
    };
    const run = (async () => {
      try {
        await sleep(0, signal);
        await worker(ctx);
        this.finish(record, warnings ? `WARNINGS: ${warnings}` : "OK");
      } catch (e) {
        spec.onError?.();
        const msg = signal.aborted ? "interrupted by signal" : e instanceof Error ? e.message : String(e);
        this.finish(record, msg.replace(/\n+$/, ""));
      } finally {
        this.running.delete(upid);
        this.cancels.delete(upid);
      }
    })();
    this.running.set(upid, run);
    return upid;
  }

  private finish(record: TaskRecord, exitstatus: string): void {
    record.status = "stopped";
    record.exitstatus = exitstatus;
    record.endtime = Math.floor(Date.now() / 1000);
    record.log.push(
      this.stamp(
        exitstatus === "OK"
          ? "TASK OK"
          : exitstatus.startsWith("WARNINGS: ")
            ? `TASK ${exitstatus}`
            : `TASK ERROR: ${exitstatus}`,
      ),
    );
    this.save();
  }

  /** PBS task logs start every line with the time (RFC 3339, server-local offset). */
  private stamp(line: string): string {
    if (this.flavour === "pve") return line;
    const d = new Date();
    const off = -d.getTimezoneOffset();
    const local = new Date(d.getTime() + off * 60_000).toISOString().slice(0, 19);
    const sign = off < 0 ? "-" : "+";
    return `${local}${sign}${String(Math.floor(Math.abs(off) / 60)).padStart(2, "0")}:${String(Math.abs(off) % 60).padStart(2, "0")}: ${line}`;
  }

  find(upid: string): TaskRecord | undefined {
    return this.state.tasks.find((t) => t.upid === upid);
  }

  /** DELETE /nodes/{node}/tasks/{upid}: the worker ends with "interrupted by signal" at its next step. */
  cancel(upid: string): void {
    this.cancels.get(upid)?.abort();
  }

  /** Resolves when every running task has ended. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running.values()]);
  }

  /** Stop all workers (simulator shutdown): they end with "interrupted by signal". */
  async shutdown(): Promise<void> {
    this.abort.abort();
    await this.idle();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error("interrupted by signal"));
    const timer = setTimeout(() => (signal.removeEventListener("abort", onAbort), resolve()), ms);
    const onAbort = (): void => (clearTimeout(timer), reject(new Error("interrupted by signal")));
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
