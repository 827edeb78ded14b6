// `lab schedule install|status|remove`: the nightly backup, weekly verify and
// quarterly drill jobs on the control host, applied with the project's own
// resources (systemd units, or a crontab block) over the local transport, read ->
// diff -> apply like any converge: a second install changes nothing and says so.
import { homedir } from "node:os";
import { resolve } from "node:path";
import { formatDuration } from "../backup/duration.ts";
import { localTimeFormat } from "../backup/local-time.ts";
import { runHostPlay } from "../engine/host-run.ts";
import type { StepResult } from "../engine/results.ts";
import type { HostCtx } from "../engine/types.ts";
import { ExitCode, badInput } from "../errors.ts";
import { systemScope, type SystemdScope } from "../resources/systemd-unit.ts";
import {
  backendName,
  installedJobs,
  scheduleResources,
  systemdRunning,
  timerCalendar,
  userScope,
  type Backend,
} from "../schedule/backend.ts";
import { controlHost } from "../schedule/control-host.ts";
import { invocation } from "../schedule/invocation.ts";
import { nextRun, plannedJobs, type ScheduleFlags, type ScheduleJob } from "../schedule/jobs.ts";
import { lastResult, type LastResult } from "../schedule/last-results.ts";
import { redact } from "../secrets/secret.ts";
import type { Transport } from "../transport/types.ts";
import { checkedPolicy } from "./backup-check-command.ts";
import { openWorkflow, type WorkflowOptions } from "./workflow-context.ts";

export interface ScheduleOptions extends WorkflowOptions {
  flags: ScheduleFlags;
  /** auto: systemd timers where systemd runs, else the crontab. */
  using: "auto" | "systemd" | "cron";
  /** The user's systemd manager (systemctl --user) instead of the system's. */
  user: boolean;
  /** Tests: the systemd manager (unit directory, how to tell it runs) and the control host's transport. */
  scope?: SystemdScope;
  transport?: Transport;
}

type Action = "install" | "status" | "remove";

async function chooseBackend(host: HostCtx, o: ScheduleOptions): Promise<Backend> {
  if (o.using === "cron" && o.user)
    throw badInput(
      "--user is for systemd's user manager; a crontab is always the user's own",
      {},
      "leave out --user, or use --using systemd",
    );
  const systemd = o.using === "systemd" || (o.using === "auto" && (await host.facts.get(systemdRunning)));
  if (!systemd) return { kind: "cron" };
  const root = process.getuid?.() === 0;
  return { kind: "systemd", scope: o.scope ?? (o.user || !root ? userScope(homedir()) : systemScope) };
}

const lines = (results: readonly StepResult[], verbose: boolean) =>
  results.flatMap((r) => {
    if (r.status === "ok") return verbose ? [`ok       ${r.id}: ${r.reason ?? ""}`] : [];
    if (r.status !== "changed")
      return [`${r.status.padEnd(8)} ${r.id}: ${r.reason ?? ""}${r.hint ? `\n  hint: ${r.hint}` : ""}`];
    return r.changes.map((c) => `changed  ${r.id}: ${c.summary}${verbose && c.diff ? `\n${c.diff}` : ""}`);
  });

const local = localTimeFormat(undefined, { offset: true, seconds: false });
/** The control host's local time (cron's and the timers' clock), and how far off. */
const when = (d: Date | undefined, now: Date) =>
  d ? `${local.format(d)} (in ${formatDuration(Math.round((d.getTime() - now.getTime()) / 60_000) * 60)})` : "-";

export async function scheduleCommand(action: Action, o: ScheduleOptions): Promise<number> {
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  const now = (o.now ?? (() => new Date()))();
  const { ctx } = await openWorkflow(o);
  const t0 = performance.now();
  try {
    // remove needs no policy: it removes what carries this project's marker.
    const planned =
      action === "remove"
        ? { jobs: [] as ScheduleJob[], notes: [] as string[] }
        : plannedJobs(
            (await checkedPolicy(ctx, { root: o.root, targets: [], ...(o.policy ? { policy: o.policy } : {}) })).policy,
            o.flags,
            now,
            o.policy ? resolve(o.root, o.policy) : undefined,
          );
    const { inv, warnings } = invocation({ root: o.root, inventory: o.inventory });
    const host = controlHost(ctx, o.transport);
    const backend = await chooseBackend(host, o);
    const resources = await scheduleResources(host, backend, planned.jobs, inv);
    if (action !== "status") await ctx.lock(`lab ${(o.argv ?? ["schedule", action]).join(" ")}`);
    const results: StepResult[] = [];
    const healthy = await runHostPlay(
      host,
      {
        host: host.host.name,
        steps: resources.map((resource) => ({ resource, role: "schedule", tags: [] })),
        handlers: new Map(),
      },
      {
        play: `schedule ${action}`,
        check: action === "status",
        onStep: (r) => results.push(r),
        onStart: () => undefined,
      },
    );
    const changed = results.some((r) => r.status === "changed");
    const code = healthy ? ExitCode.ok : ExitCode.failed;

    if (action === "status") {
      const installed = await installedJobs(host, backend, o.root);
      const rows = await Promise.all(
        planned.jobs.map(async (j) => ({
          job: j,
          installed: installed.has(j.name),
          next: nextRun(j.schedule, now),
          last: await lastResult(o.root, j.kind),
        })),
      );
      const report = {
        format_version: 1,
        backend: backendName(backend),
        in_sync: healthy && !changed,
        jobs: rows.map((r) => ({
          name: r.job.name,
          command: `lab ${r.job.args.join(" ")}`,
          schedule: r.job.schedule,
          source: r.job.source,
          ...(backend.kind === "systemd" ? { on_calendar: timerCalendar(r.job) } : {}),
          installed: r.installed,
          next_run: r.next?.toISOString() ?? null,
          last_result: r.last ?? null,
        })),
        not_wanted: [...installed.keys()].filter((n) => !planned.jobs.some((j) => j.name === n)),
        notes: [...planned.notes, ...warnings],
      };
      stdout.write(
        redact(
          o.json
            ? `${JSON.stringify(report, null, 2)}\n`
            : `${statusTable(now, report.backend, rows, report.in_sync, report.not_wanted, report.notes, results, Boolean(o.verbose))}\n`,
        ),
      );
      return code;
    }

    await ctx.audit({
      argv: o.argv ?? ["schedule", action],
      playbook: `(lab schedule ${action})`,
      check: false,
      hosts: [host.host.name],
      changes: results.flatMap((r) =>
        r.changes.map((c) => ({ host: host.host.name, resource: r.id, summary: c.summary })),
      ),
      outcome: !healthy ? "failed" : changed ? "changed" : "ok",
      exitCode: code,
      durationMs: Math.round(performance.now() - t0),
    });
    const notes = action === "install" ? [...planned.notes, ...warnings] : [];
    for (const n of notes) stderr.write(`lab: note: ${redact(n)}\n`);
    const verdict = !healthy
      ? `lab schedule ${action} FAILED on ${host.host.name}`
      : !changed
        ? action === "install"
          ? `nothing to change: the schedule is already installed (${planned.jobs.length} jobs, ${backendName(backend)})`
          : `nothing to remove: no job of this project in the ${backendName(backend)}`
        : action === "install"
          ? `installed ${planned.jobs.length} jobs (${backendName(backend)}); a second install changes nothing`
          : `removed this project's jobs from the ${backendName(backend)}`;
    if (o.json)
      stdout.write(
        `${JSON.stringify({ format_version: 1, action, backend: backendName(backend), changed, ok: healthy, steps: results, jobs: planned.jobs, notes }, null, 2)}\n`,
      );
    else
      stdout.write(
        redact(
          `${[...lines(results, Boolean(o.verbose)), ...(action === "install" ? jobList(planned.jobs) : []), verdict].join("\n")}\n`,
        ),
      );
    return code;
  } finally {
    await ctx.close();
  }
}

/** The jobs, aligned: name, schedule, command, where the schedule came from. */
function jobList(jobs: readonly ScheduleJob[]): string[] {
  const rows = jobs.map((j) => [j.name, j.schedule, `lab ${j.args.join(" ")}`, `[${j.source}]`]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `  ${r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join("  ")}`);
}

function statusTable(
  now: Date,
  backend: string,
  rows: { job: ScheduleJob; installed: boolean; next: Date | undefined; last: LastResult | undefined }[],
  inSync: boolean,
  notWanted: string[],
  notes: string[],
  results: readonly StepResult[],
  verbose: boolean,
): string {
  const table = [["JOB", "SCHEDULE", "NEXT RUN", "LAST RUN", "RESULT", "INSTALLED"]];
  for (const r of rows) {
    table.push([
      r.job.name,
      r.job.schedule,
      when(r.next, now),
      r.last ? local.format(new Date(r.last.at)) : "-",
      r.last ? (r.last.ok ? "ok" : "FAILED") : "never ran",
      r.installed ? "yes" : "no",
    ]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((t) => t[i]!.length)));
  const out = table.map((t) =>
    t
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd(),
  );
  out.push("", `where: ${backend}`);
  for (const r of rows) {
    out.push(
      `  ${r.job.name}: lab ${r.job.args.join(" ")} [${r.job.source}]${r.last ? `\n    last: ${r.last.summary} (${r.last.from})` : ""}`,
    );
  }
  for (const n of notWanted) out.push(`not wanted any more: ${n} (lab schedule install removes it)`);
  for (const n of notes) out.push(`note: ${n}`);
  out.push(
    inSync
      ? "installed and up to date"
      : `differs from the policy: lab schedule install would\n${lines(results, verbose)
          .map((l) => `  ${l}`)
          .join("\n")}`,
  );
  return out.join("\n");
}
