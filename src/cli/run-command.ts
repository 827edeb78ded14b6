// `lab plan` and `lab apply`: a plain async function (testable without argv)
// that returns the exit code and writes to the given streams. Built on the run
// context: validate everything, then (apply only) lock, run, audit, close.
import { ExitCode } from "../errors.ts";
import { redact } from "../secrets/secret.ts";
import { formatChanges, formatRecap, jsonReport } from "../engine/output.ts";
import { ListrReporter, PlainReporter } from "../engine/progress.ts";
import { RunContext, type GuestResolver } from "../engine/context.ts";
import { prepare, runPlays, type Prepared, type RunOptions, type RunResult } from "../engine/runner.ts";
import { staleWarning } from "../engine/lock.ts";
import type { AuditOutcome } from "../engine/audit.ts";
import type { Logger } from "../engine/types.ts";
import { RunTracker, recordAbort } from "./run-tracker.ts";
import { quietSignals, type Signals } from "./signals.ts";
import { formatList, type ListKind } from "./list-plays.ts";
import { useColor } from "./color.ts";
import { relative } from "node:path";
import {
  PLAN_FORMAT_VERSION,
  checkSources,
  driftError,
  driftOf,
  ReadRecorder,
  type SavedPlan,
} from "../engine/saved-plan.ts";
import { LAB_VERSION, projectSources, writePlanFile } from "./plan-file.ts";

// The Proxmox client is loaded only when a VM guest is connected to.
const guests: GuestResolver = (run, ctx, host) =>
  import("../proxmox/resources/guest.ts").then((m) => m.guestResolver(run, ctx, host));

export interface RunCommandOptions extends Omit<RunOptions, "reporter" | "log" | "signal"> {
  json: boolean;
  verbose: boolean;
  /** plan only: exit 10 when there are changes. */
  detailedExitCode?: boolean;
  /** The first signal winds the run down; the second runs this command's hard-exit hook (see signals.ts). */
  signals?: Signals;
  /** The command line, for the lock and the audit log. */
  argv?: string[];
  /** false: plain diffs even on a terminal (--no-color). */
  color?: boolean;
  /** Only list what the run would touch (hosts, tags or tasks per play) and exit 0; nothing is contacted. */
  list?: ListKind;
  /** Seconds to wait for another apply's lock (default 0: fail at once). */
  lockTimeout?: number;
  /** plan only: write the saved plan here (`lab plan -o FILE`). */
  planOut?: string;
  /** apply only: apply this saved plan (`lab apply FILE`), after checking sources and drift. */
  saved?: { file?: string; plan: SavedPlan };
  /** apply only, on a terminal: show the plan and apply only if this says yes. */
  confirm?: (question: string) => Promise<boolean>;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

export async function runCommand(opts: RunCommandOptions): Promise<{ code: ExitCode; result: RunResult }> {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const log: Logger = {
    debug: (m) => {
      if (opts.verbose) stderr.write(`lab: debug: ${redact(m)}\n`);
    },
    warn: (m) => stderr.write(`lab: warning: ${redact(m)}\n`),
  };
  const tracker = new RunTracker(
    stderr.isTTY && !opts.json ? new ListrReporter() : new PlainReporter(stderr, opts.verbose),
  );
  const signals = opts.signals ?? quietSignals();
  const signal = signals.signal;
  const argv = opts.argv ?? ["apply"];
  const t0 = performance.now();
  // The hosts are known once the playbook is prepared; a second signal before that records the run with none.
  let hosts: string[] = [];
  // Hooked before anything slow (loading the playbook, facts): a second signal at any moment leaves the record.
  const unhook = signals.beforeHardExit(() =>
    recordAbort({
      tracker,
      hosts,
      root: opts.root,
      startedAt: t0,
      json: opts.json,
      stdout,
      ...(opts.check ? {} : { audit: auditBase(opts, argv) }),
    }),
  );
  // A plan made from other project files: refused before anything is opened.
  if (opts.saved) checkSources(opts.saved.file ?? "", opts.saved.plan, projectSources(opts));
  let ctx: RunContext;
  try {
    ctx = await RunContext.open({ ...opts, log, signal, guests: opts.guests ?? guests });
  } catch (e) {
    unhook();
    throw e;
  }
  let prepared: Awaited<ReturnType<typeof prepare>>;
  try {
    // Validated before the lock is taken: bad input never waits for (or blocks) another run.
    prepared = await prepare(ctx, opts.playbook, opts);
    hosts = [...new Set(prepared.plays.flatMap((p) => p.hosts.map((h) => h.host)))];
  } catch (e) {
    unhook();
    await ctx.close();
    throw e;
  }
  if (opts.list) {
    unhook();
    await ctx.close();
    stdout.write(formatList(prepared, opts.list));
    return {
      code: ExitCode.ok,
      result: {
        playbook: prepared.playbook.name,
        check: true,
        results: [],
        hosts: {},
        exitCode: ExitCode.ok,
        interrupted: false,
        durationMs: 0,
      },
    };
  }
  let result: RunResult;
  try {
    // Plans only read: they take no lock and leave no audit record.
    if (!opts.check)
      await ctx.lock(`lab ${argv.join(" ")}`, {
        timeoutSec: opts.lockTimeout ?? 0,
        hosts,
        onStale: (h) => log.warn(staleWarning(h)),
      });
    try {
      const play = (p: Prepared, check: boolean) => runPlays(ctx, p, { check, forks: opts.forks, reporter: tracker });
      if (opts.check && opts.planOut) {
        const rec = new ReadRecorder();
        const wrapped = rec.wrap(prepared);
        result = await play(wrapped, true);
        if (result.exitCode === ExitCode.ok)
          await writePlanFile(opts.planOut, savedPlan(opts, rec, rec.steps(wrapped, result)));
        else log.warn(`the plan did not succeed (exit ${result.exitCode}): ${opts.planOut} was not written`);
      } else if (!opts.check && (opts.saved || opts.confirm)) {
        let saved = opts.saved;
        if (!saved) {
          // Interactive: plan, show, ask; the answer covers exactly the changes shown.
          const rec = new ReadRecorder();
          const wrapped = rec.wrap(prepared);
          const planned = await play(wrapped, true);
          (opts.json ? stderr : stdout).write(
            redact(`${formatChanges(planned, opts.verbose, useColor(stdout, opts.color))}\n${formatRecap(planned)}\n`),
          );
          const n = Object.values(planned.hosts).reduce((k, h) => k + h.changed, 0);
          const asked = planned.exitCode === ExitCode.ok && n > 0 && !ctx.signal.aborted;
          if (!asked || !(await opts.confirm!(`apply these ${n} change(s)? only "yes" applies: `))) {
            if (asked) stderr.write("lab: apply cancelled: nothing was changed\n");
            if (opts.json) stdout.write(`${redact(jsonReport(planned))}\n`);
            return { code: asked ? ExitCode.declined : planned.exitCode, result: planned };
          }
          // What the host is now is read again below: a change since the plan was shown is drift.
          for (const h of hosts) ctx.host(h).facts.invalidate();
          saved = { plan: savedPlan(opts, rec, rec.steps(wrapped, planned)) };
        }
        const rec = new ReadRecorder(saved.plan.salt);
        const wrapped = rec.wrap(prepared);
        const now = await runPlays(ctx, wrapped, { check: true, forks: opts.forks, reporter: quiet });
        const drift = driftOf(saved.plan.steps, rec.steps(wrapped, now));
        if (drift.length) throw driftError(saved.file, drift);
        result = await play(prepared, false);
      } else result = await play(prepared, Boolean(opts.check));
    } catch (e) {
      if (!opts.check)
        await audit(ctx, opts, argv, {
          outcome: "error",
          exitCode: (e as { code?: number }).code ?? ExitCode.internal,
          durationMs: performance.now() - t0,
        });
      throw e;
    }
    if (!opts.check) await audit(ctx, opts, argv, { result });
  } finally {
    unhook();
    await ctx.close();
  }
  // The engine redacts as it records; the output boundary redacts once more.
  if (opts.json) stdout.write(`${redact(jsonReport(result))}\n`);
  else
    stdout.write(
      redact(`${formatChanges(result, opts.verbose, useColor(stdout, opts.color))}\n${formatRecap(result)}\n`),
    );
  const changed = Object.values(result.hosts).some((h) => h.changed > 0);
  const code =
    result.exitCode === ExitCode.ok && opts.check && opts.detailedExitCode && changed
      ? ExitCode.planHasChanges
      : result.exitCode;
  return { code, result };
}

/** The drift check's re-read prints nothing: what it found is the plan already shown. */
const quiet = { playStart: () => {}, stepStart: () => {}, step: () => {}, playEnd: () => Promise.resolve() };

function savedPlan(opts: RunCommandOptions, rec: ReadRecorder, steps: SavedPlan["steps"]): SavedPlan {
  return {
    format_version: PLAN_FORMAT_VERSION,
    kind: "lab-plan",
    lab_version: LAB_VERSION,
    created_at: new Date().toISOString(),
    playbook: relative(opts.root, opts.playbook),
    selection: {
      ...(opts.limit ? { limit: opts.limit } : {}),
      tags: opts.tags ?? [],
      skipTags: opts.skipTags ?? [],
      extraVars: opts.extraVars ?? {},
    },
    sources: projectSources(opts),
    salt: rec.salt,
    steps,
  };
}

const auditBase = (opts: RunCommandOptions, argv: string[]) => ({
  argv,
  playbook: opts.playbook,
  check: opts.check,
  ...(opts.limit ? { limit: opts.limit } : {}),
});

async function audit(
  ctx: RunContext,
  opts: RunCommandOptions,
  argv: string[],
  r: { result: RunResult } | { outcome: AuditOutcome; exitCode: number; durationMs: number },
): Promise<void> {
  const base = auditBase(opts, argv);
  if (!("result" in r)) {
    await ctx.audit({
      ...base,
      hosts: [],
      changes: [],
      outcome: r.outcome,
      exitCode: r.exitCode,
      durationMs: Math.round(r.durationMs),
    });
    return;
  }
  const res = r.result;
  const statuses = Object.values(res.hosts).map((h) => h.status);
  const outcome: AuditOutcome = res.interrupted
    ? "interrupted"
    : statuses.includes("failed")
      ? "failed"
      : statuses.includes("unreachable")
        ? "unreachable"
        : statuses.includes("changed")
          ? "changed"
          : "ok";
  await ctx.audit({
    ...base,
    hosts: Object.keys(res.hosts),
    changes: res.results.flatMap((s) => s.changes.map((c) => ({ host: s.host, resource: s.id, summary: c.summary }))),
    outcome,
    exitCode: res.exitCode,
    durationMs: Math.round(res.durationMs),
  });
}
