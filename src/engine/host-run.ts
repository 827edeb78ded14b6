// One play on one host: prefetch facts in one round trip, then per step
// read -> diff -> (apply -> re-read), then the notified handlers. After a step
// changes the host, every cached fact is dropped and the remaining steps' facts
// are read again in one round trip: later steps see what earlier ones changed.
// A plan cannot see that, so a step whose facts depend on a path an earlier
// planned change writes is shown as known only after apply (as Terraform does).
import { ExitCode, LabError, NotCreatedYetError, UnreachableError, errorMessage } from "../errors.ts";
import { redact } from "../secrets/secret.ts";
import type { HostPlan } from "./steps.ts";
import type { StepResult } from "./results.ts";
import type { Change, HostCtx, Resource } from "./types.ts";

export interface HostRunOptions {
  play: string;
  check: boolean;
  onStep(result: StepResult): void;
  onStart(id: string): void;
}

/** Runs the steps; returns false when the host must not continue (failed/unreachable/interrupted). */
export async function runHostPlay(ctx: HostCtx, plan: HostPlan, opts: HostRunOptions): Promise<boolean> {
  const notified = new Set<string>();
  // Ids can hold revealed values (a command line): redact them like everything else.
  const emit = (r: Omit<StepResult, "play" | "host">) =>
    opts.onStep({
      play: opts.play,
      host: plan.host,
      ...r,
      id: redact(r.id),
      ...(r.reason ? { reason: redact(r.reason) } : {}),
    });
  let stop: StepResult["status"] | undefined;
  let stopReason = "";
  let planned = false;
  let failedIndependent = false;

  const remainingFacts = (from: number) => plan.steps.slice(from).flatMap((s) => s.resource.facts?.() ?? []);
  /** Plan only: paths that earlier planned changes would write, and by which step. */
  const written: { path: string; by: string }[] = [];

  for (const [i, step] of plan.steps.entries()) {
    const r = step.resource;
    if (stop || ctx.signal.aborted) {
      emit({
        id: r.id,
        role: step.role,
        status: "skipped",
        changes: [],
        reason: ctx.signal.aborted ? "not run: interrupted" : `not run: ${stopReason}`,
        durationMs: 0,
      });
      continue;
    }
    opts.onStart(redact(r.id));
    const t0 = performance.now();
    let changes: Change[] = [];
    try {
      const dep = opts.check ? dependsOnWritten(r, written) : undefined;
      if (dep) {
        for (const path of r.writes?.() ?? []) written.push({ path, by: r.id });
        for (const h of r.notify ?? []) notified.add(h);
        planned = true;
        emit({
          id: r.id,
          role: step.role,
          status: "changed",
          changes: redactChanges([
            {
              key: "known-after-apply",
              summary: `known after apply: depends on ${dep.path}, which ${dep.by} changes first`,
            },
          ]),
          durationMs: performance.now() - t0,
        });
        continue;
      }
      await ctx.facts.prefetch(remainingFacts(i));
      const have = await r.read(ctx);
      changes = r.diff(r.want, have);
      if (changes.length === 0) {
        const note = r.note?.(have);
        emit({
          id: r.id,
          role: step.role,
          status: "ok",
          changes: [],
          reason: r.ok?.(have) ?? "already in the wanted state",
          ...(note ? { note: redact(note) } : {}),
          durationMs: performance.now() - t0,
        });
        continue;
      }
      if (!opts.check) {
        await r.apply(ctx, changes, have);
        // The host changed: what later steps (and this read-back) see is read again, in one round trip.
        ctx.facts.invalidate();
        await ctx.facts.prefetch(remainingFacts(i));
        const after = r.diff(r.want, await r.read(ctx));
        if (after.length)
          throw new LabError(
            `did not converge: still ${after.map((c) => c.summary).join("; ")}`,
            ExitCode.failed,
            { host: plan.host },
            "the change was applied but reading back shows a difference; check the host",
          );
      } else {
        for (const path of r.writes?.() ?? []) written.push({ path, by: r.id });
      }
      for (const h of r.notify ?? []) notified.add(h);
      planned = true;
      emit({
        id: r.id,
        role: step.role,
        status: "changed",
        changes: redactChanges(changes),
        durationMs: performance.now() - t0,
      });
    } catch (e) {
      if (e instanceof LabError && e.code === ExitCode.interrupted && ctx.signal.aborted) {
        // Cut short by the interrupt, not failed (e.g. a health wait): what it did stays done, and the reason says what is unknown.
        emit({
          id: r.id,
          role: step.role,
          status: "changed",
          changes: redactChanges(changes),
          reason: redact(e.message),
          durationMs: performance.now() - t0,
        });
        continue;
      }
      const unreachable = e instanceof UnreachableError;
      if (opts.check && e instanceof NotCreatedYetError) {
        // Known after apply: the host is made by an earlier play of this run.
        stop = "skipped";
        stopReason = `host not created yet: ${e.message}`;
        emit({
          id: r.id,
          role: step.role,
          status: "skipped",
          changes: [],
          durationMs: performance.now() - t0,
          reason: stopReason,
        });
        continue;
      }
      if (!unreachable && r.independent) {
        // Nothing after it depends on it (e.g. one VM of many): record the failure, go on.
        failedIndependent = true;
        emit({
          id: r.id,
          role: step.role,
          status: "failed",
          changes: [],
          durationMs: performance.now() - t0,
          reason: redact(errorMessage(e)),
          ...(e instanceof LabError && e.hint ? { hint: redact(e.hint) } : {}),
        });
        continue;
      }
      if (opts.check && !unreachable && planned) {
        // Plan only: this step may depend on an earlier change that was not made.
        emit({
          id: r.id,
          role: step.role,
          status: "skipped",
          changes: [],
          durationMs: performance.now() - t0,
          reason: `cannot be planned before the earlier changes are applied: ${redact(errorMessage(e))}`,
        });
        continue;
      }
      stop = unreachable ? "unreachable" : "failed";
      stopReason = unreachable ? "host unreachable" : `an earlier step failed (${r.id})`;
      emit({
        id: r.id,
        role: step.role,
        status: stop,
        changes: [],
        durationMs: performance.now() - t0,
        reason: redact(e instanceof LabError ? e.message : errorMessage(e)),
        ...(e instanceof LabError && (e.hint || e.where.command)
          ? { hint: redact([e.where.command && `command: ${e.where.command}`, e.hint].filter(Boolean).join("; ")) }
          : {}),
      });
    }
  }

  // Handlers: once per host, in the order they were declared, only if notified and the host is healthy.
  for (const [id, handler] of plan.handlers) {
    if (!notified.has(id)) continue;
    const t0 = performance.now();
    const hid = `handler:${id}`;
    if (stop || ctx.signal.aborted) {
      emit({
        id: hid,
        role: "handler",
        status: "skipped",
        changes: [],
        reason: "not run: notified, but the host stopped early",
        durationMs: 0,
      });
      continue;
    }
    opts.onStart(hid);
    try {
      if (!opts.check) await handler.run(ctx);
      emit({
        id: hid,
        role: "handler",
        status: "changed",
        changes: [{ key: "handler", summary: handler.summary }],
        durationMs: performance.now() - t0,
      });
    } catch (e) {
      stop = e instanceof UnreachableError ? "unreachable" : "failed";
      emit({
        id: hid,
        role: "handler",
        status: stop,
        changes: [],
        reason: redact(errorMessage(e)),
        durationMs: performance.now() - t0,
      });
    }
  }
  return !stop && !failedIndependent && !ctx.signal.aborted;
}

const redactChanges = (changes: readonly Change[]): Change[] =>
  changes.map((c) => ({ ...c, summary: redact(c.summary), ...(c.diff ? { diff: redact(c.diff) } : {}) }));

/** The first path a resource's facts depend on that an earlier planned change writes ("/dir/" covers what is under it). */
function dependsOnWritten(
  r: Resource,
  written: readonly { path: string; by: string }[],
): { path: string; by: string } | undefined {
  if (written.length === 0) return undefined;
  for (const p of (r.facts?.() ?? []).flatMap((f) => f.dependsOn ?? [])) {
    const w = written.find((x) => x.path === p || (x.path.endsWith("/") && p.startsWith(x.path)));
    if (w) return { path: p, by: w.by };
  }
  return undefined;
}
