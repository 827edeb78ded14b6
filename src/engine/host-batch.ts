// The changes of one host that do not depend on each other's results, run as ONE
// remote script (ADR 0023): each step's apply() is recorded (its `run()` calls
// become commands of the script), the script runs them in order and stops at the
// first failure, which is reported as that step's failure; then ONE fact round
// trip reads back every applied step (and the next steps' facts) to verify it.
// Results are emitted in step order, after the batch ran.
import { ExitCode, LabError, UnreachableError, errorMessage } from "../errors.ts";
import { redact } from "../secrets/secret.ts";
import { CommandTimeoutError } from "../transport/timeouts.ts";
import { batchScript, newBoundary, parseBatch } from "./batch-script.ts";
import { commandFailed } from "./command-failed.ts";
import type { StepResult } from "./results.ts";
import type { Step } from "./steps.ts";
import type { Change, Fact, FactCache, Handler, HostCtx, RecordedCommand, Resource } from "./types.ts";

type Emit = (r: Omit<StepResult, "play" | "host">) => void;

interface Item {
  step: Step;
  t0: number;
  /** Undefined: read as already in the wanted state (only its emit waits for the batch). */
  changes?: Change[];
  ok?: Omit<StepResult, "play" | "host">;
  commands: RecordedCommand[];
}

export interface BatchOutcome {
  /** Set when the host must stop: a step failed, did not converge, or the host was lost. */
  stop?: { status: "failed" | "unreachable"; reason: string };
}

/** The facts of a resource's read, and the keys of the cached values it uses. */
const factsOf = (r: Resource): readonly Fact<unknown>[] => r.facts?.() ?? [];

export class HostBatch {
  readonly #items: Item[] = [];
  readonly #handlers: { handler: Handler; commands: RecordedCommand[] }[] = [];

  constructor(
    private readonly ctx: HostCtx,
    private readonly emit: Emit,
    private readonly onApplied: (r: Resource) => void,
    private readonly onStart: (id: string) => void,
  ) {}

  /** Changes waiting to run (ok steps waiting only for their turn to be reported do not count). */
  get changes(): number {
    return this.#items.filter((i) => i.changes).length;
  }

  /** Handlers the waiting changes notify. */
  notifies(): Set<string> {
    return new Set(this.#items.filter((i) => i.changes).flatMap((i) => i.step.resource.notify ?? []));
  }

  /** Would this step read what a waiting change writes, or a fact a waiting change reads? Then the batch runs first. */
  dependsOnWaiting(r: Resource): boolean {
    const waiting = this.#items.filter((i) => i.changes).map((i) => i.step.resource);
    if (waiting.length === 0) return false;
    const written = waiting.flatMap((w) => w.writes?.() ?? []);
    const keys = new Set(waiting.flatMap((w) => factsOf(w).map((f) => f.key)));
    return factsOf(r).some(
      (f) =>
        keys.has(f.key) ||
        (f.dependsOn ?? []).some((p) => written.some((w) => w === p || (w.endsWith("/") && p.startsWith(w)))),
    );
  }

  /** Read, diff and record one step; false (nothing kept) when any of that throws: the caller runs it alone. */
  async add(step: Step, prefetch: readonly Fact<unknown>[]): Promise<boolean> {
    const r = step.resource;
    const t0 = performance.now();
    try {
      await this.ctx.facts.prefetch(prefetch);
      const have = await r.read(this.ctx);
      const changes = r.diff(r.want, have);
      if (changes.length === 0) {
        const note = r.note?.(have);
        const ok = {
          id: r.id,
          role: step.role,
          status: "ok" as const,
          changes: [],
          reason: r.ok?.(have) ?? "already in the wanted state",
          ...(note ? { note: redact(note) } : {}),
          durationMs: performance.now() - t0,
        };
        if (this.changes === 0) this.emit(ok);
        else this.#items.push({ step, t0, ok, commands: [] });
        return true;
      }
      const commands = await this.#record((c) => r.apply(c, changes, have));
      this.#items.push({ step, t0, changes, commands });
      return true;
    } catch {
      return false;
    }
  }

  /** Record the notified handlers to run at the end of the script; false when one cannot be recorded. */
  async addHandlers(handlers: readonly Handler[]): Promise<boolean> {
    try {
      for (const handler of handlers)
        this.#handlers.push({ handler, commands: await this.#record((c) => handler.run(c)) });
      return true;
    } catch {
      this.#handlers.length = 0;
      return false;
    }
  }

  async #record(apply: (ctx: HostCtx) => Promise<void>): Promise<RecordedCommand[]> {
    const commands: RecordedCommand[] = [];
    const facts: FactCache = {
      get: (f) => this.ctx.facts.get(f),
      prefetch: (fs) => this.ctx.facts.prefetch(fs),
      // The batch has not run yet: what it changes is read again after it.
      invalidate: () => undefined,
    };
    await apply({ ...this.ctx, facts, batch: { record: (c) => commands.push(c) } });
    return commands;
  }

  /** Run the waiting changes (and recorded handlers) in one script, verify them in one read, report in order. */
  async run(next: readonly Fact<unknown>[]): Promise<BatchOutcome> {
    const items = this.#items.splice(0);
    const handlers = this.#handlers.splice(0);
    const all = [...items.flatMap((i) => i.commands), ...handlers.flatMap((h) => h.commands)];
    const results = new Map<Item | Handler, Omit<StepResult, "play" | "host">>();
    const skip = (reason: string): void => {
      for (const i of items) if (!results.has(i)) results.set(i, this.#skipped(i.step, reason));
      for (const { handler: h } of handlers)
        if (!results.has(h))
          results.set(h, { ...this.#handler(h, "skipped"), reason: "not run: notified, but the host stopped early" });
    };
    const outcome: BatchOutcome = {};
    const fail = (i: Item, status: "failed" | "unreachable", e: unknown) => {
      results.set(i, this.#failed(i, status, e));
      outcome.stop ??= {
        status,
        reason: status === "unreachable" ? "host unreachable" : `an earlier step failed (${i.step.resource.id})`,
      };
    };

    for (const i of items) if (!i.changes) results.set(i, i.ok!);
    const applied: Item[] = [];
    if (this.ctx.signal.aborted) skip("interrupted");
    else if (all.length > 0) {
      for (const i of items) if (i.changes) this.onStart(redact(i.step.resource.id));
      const boundary = newBoundary();
      const limit = all.reduce((s, c) => s + c.timeoutMs, 0);
      const first = items.find((i) => i.changes)!;
      try {
        const r = await this.ctx.transport.exec("sh -s", { stdin: batchScript(all, boundary), timeoutMs: limit });
        const status = parseBatch(r.stdout, r.stderr, all.length, boundary);
        let n = 0;
        const ran = (commands: readonly RecordedCommand[]) => {
          for (const c of commands) {
            const s = status[n++];
            if (!s)
              return new LabError(
                `${c.what}: the host's batch script stopped before it reported (exit ${r.code})${r.stderr.trim() ? `: ${redact(r.stderr.trim().split("\n").slice(-3).join("; "))}` : ""}`,
                ExitCode.failed,
                { host: this.ctx.host.name, command: redact(c.command) },
                "check the host; the next run will converge",
              );
            if (s.code !== 0) return commandFailed(this.ctx.host.name, c.what, c.command, s);
          }
          return undefined;
        };
        for (const i of items) {
          if (!i.changes || outcome.stop) continue;
          const err = ran(i.commands);
          if (err) fail(i, "failed", err);
          else applied.push(i);
        }
        for (const { handler: h, commands } of handlers) {
          if (outcome.stop) break;
          const err = ran(commands);
          if (err) {
            results.set(h, { ...this.#handler(h, "failed"), reason: redact(errorMessage(err)) });
            outcome.stop = { status: "failed", reason: `handler ${h.id} failed` };
          } else results.set(h, this.#handler(h, "changed"));
        }
      } catch (e) {
        const unreachable = e instanceof UnreachableError;
        const what = `the host's batch of ${all.length} commands (${all.map((c) => c.what).join(", ")})`.slice(0, 300);
        fail(
          first,
          unreachable ? "unreachable" : "failed",
          e instanceof CommandTimeoutError
            ? new LabError(`${what} ${e.message}`, ExitCode.failed, { host: this.ctx.host.name }, e.hint)
            : e,
        );
      }
      if (outcome.stop) skip(outcome.stop.status === "unreachable" ? "host unreachable" : outcome.stop.reason);
    }

    // Read back what ran, with the facts the next steps need, in one round trip.
    if (applied.length > 0) {
      this.ctx.facts.invalidate();
      try {
        await this.ctx.facts.prefetch([
          ...applied.flatMap((i) => factsOf(i.step.resource)),
          ...(outcome.stop ? [] : next),
        ]);
      } catch {
        // Each step's own read below reports it.
      }
      for (const i of applied) {
        const r = i.step.resource;
        try {
          const after = r.diff(r.want, await r.read(this.ctx));
          if (after.length)
            throw new LabError(
              `did not converge: still ${after.map((c) => c.summary).join("; ")}`,
              ExitCode.failed,
              { host: this.ctx.host.name },
              "the change was applied but reading back shows a difference; check the host",
            );
          results.set(i, {
            id: r.id,
            role: i.step.role,
            status: "changed",
            changes: redactChanges(i.changes!),
            durationMs: performance.now() - i.t0,
          });
          this.onApplied(r);
        } catch (e) {
          fail(i, e instanceof UnreachableError ? "unreachable" : "failed", e);
        }
      }
    }
    for (const i of items) this.emit(results.get(i)!);
    for (const { handler: h } of handlers) this.emit(results.get(h)!);
    return outcome;
  }

  #skipped(step: Step, reason: string): Omit<StepResult, "play" | "host"> {
    return {
      id: step.resource.id,
      role: step.role,
      status: "skipped",
      changes: [],
      reason: `not run: ${reason}`,
      durationMs: 0,
    };
  }

  #handler(h: Handler, status: "changed" | "failed" | "skipped"): Omit<StepResult, "play" | "host"> {
    return {
      id: `handler:${h.id}`,
      role: "handler",
      status,
      changes: status === "changed" ? [{ key: "handler", summary: h.summary }] : [],
      durationMs: 0,
    };
  }

  #failed(i: Item, status: "failed" | "unreachable", e: unknown): Omit<StepResult, "play" | "host"> {
    return {
      id: i.step.resource.id,
      role: i.step.role,
      status,
      changes: [],
      durationMs: performance.now() - i.t0,
      reason: redact(e instanceof LabError ? e.message : errorMessage(e)),
      ...(e instanceof LabError && (e.hint || e.where.command)
        ? { hint: redact([e.where.command && `command: ${e.where.command}`, e.hint].filter(Boolean).join("; ")) }
        : {}),
    };
  }
}

export const redactChanges = (changes: readonly Change[]): Change[] =>
  changes.map((c) => ({ ...c, summary: redact(c.summary), ...(c.diff ? { diff: redact(c.diff) } : {}) }));
