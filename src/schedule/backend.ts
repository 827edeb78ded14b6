// Where the jobs go on the control host, as the project's own resources: a
// systemd service + timer per job (the system manager, or the user's with
// --user), or one marked block in the user's crontab where systemd does not run.
// Everything lab writes carries the project root in its marker, so `remove`
// (and an install whose jobs changed) removes exactly lab's own entries. Units
// and crontab entries are named per project (lab-backup-1a2b3c4d), so two projects
// on one host do not overwrite each other's; the per-machine names of earlier
// installs (lab-backup) are still found by their marker, and replaced.
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import type { Fact, HostCtx, Resource } from "../engine/types.ts";
import { cronCommand } from "../resources/cron.ts";
import { crontab, crontabBlock, crontabFact } from "../resources/crontab.ts";
import { jobUnits, onCalendar } from "../resources/scheduled-job.ts";
import { systemdUnits, systemScope, type SystemdScope } from "../resources/systemd-unit.ts";
import { sh } from "../sh.ts";
import { currentUser } from "../user.ts";
import { jobCommand, type Invocation } from "./invocation.ts";
import type { ScheduleJob } from "./jobs.ts";

export type Backend = { readonly kind: "cron" } | { readonly kind: "systemd"; readonly scope: SystemdScope };

/** The marker of everything `lab schedule` writes for the project at `root`. */
export const scheduleMark = (root: string): string => `lab schedule ${root}`;
const cronMarker = (root: string) => `# {mark} ${scheduleMark(root)}`;
const unitMarker = (root: string) => `# Managed by lab (${scheduleMark(root)}).`;

/** The project's part of installed names: a short hash of its root. */
export const projectTag = (root: string): string =>
  createHash("sha256").update(resolve(root)).digest("hex").slice(0, 8);
/** The unit name (without .service/.timer) and crontab entry name of a job of the project at `root`. */
export const installedName = (root: string, job: Pick<ScheduleJob, "name">): string =>
  `${job.name}-${projectTag(root)}`;
/** The job an installed name stands for: this project's names, and the per-machine names of earlier installs. */
const jobOf = (root: string, name: string): string => {
  const suffix = `-${projectTag(root)}`;
  return name.endsWith(suffix) ? name.slice(0, -suffix.length) : name;
};

/** The user's systemd manager: units in ~/.config/systemd/user, `systemctl --user`. */
export function userScope(home: string, env: NodeJS.ProcessEnv = process.env): SystemdScope {
  const config = env.XDG_CONFIG_HOME || join(home, ".config");
  return {
    dir: join(config, "systemd", "user"),
    systemctl: "systemctl --user",
    running: systemScope.running,
    user: true,
  };
}

/** systemd runs on this host: timers; else cron. Root gets the system manager, anyone else (or --user) their own. */
export const systemdRunning: Fact<boolean> = {
  key: "schedule:systemd",
  command: `${systemScope.running} && echo yes || echo no`,
  parse: (o) => o.trim() === "yes",
};

export const backendName = (b: Backend): string =>
  b.kind === "cron"
    ? `crontab of ${currentUser()}`
    : b.scope.user
      ? `systemd user manager (${b.scope.dir})`
      : `systemd (${b.scope.dir})`;

/** Unit files in the scope's directory that carry this project's marker (what an earlier install wrote). */
export function markedUnitsFact(scope: SystemdScope, root: string): Fact<string[]> {
  return {
    key: `schedule:units:${scope.dir}`,
    command: sh`cd ${scope.dir} 2>/dev/null && grep -lxF -- ${unitMarker(root)} *.service *.timer 2>/dev/null; true`,
    parse: (out) => out.split("\n").filter(Boolean).sort(),
  };
}

/** One crontab line per job, after a comment saying what it is and where its schedule came from. */
export function cronBlock(jobs: readonly ScheduleJob[], inv: Invocation): string {
  return jobs
    .map(
      (j) =>
        `# ${installedName(inv.root, j)}: ${j.description} [${j.source}]\n${j.schedule} ${cronCommand(jobCommand(inv, j, { log: true }))}`,
    )
    .join("\n");
}

/** What is installed now: the job names found (crontab comments or unit names), for status and remove. */
export async function installedJobs(ctx: HostCtx, b: Backend, root: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (b.kind === "cron") {
    const lines = crontabBlock(await ctx.facts.get(crontabFact), cronMarker(root)) ?? [];
    lines.forEach((l, i) => {
      const m = /^# ([A-Za-z0-9_.-]+): /.exec(l);
      if (m && lines[i + 1] !== undefined)
        found.set(jobOf(root, m[1]!), lines[i + 1]!.split(" ").slice(0, 5).join(" "));
    });
    return found;
  }
  for (const f of await ctx.facts.get(markedUnitsFact(b.scope, root))) {
    if (!f.endsWith(".timer")) continue;
    const r = await ctx.transport.exec(sh`sed -n 's/^OnCalendar=//p' ${join(b.scope.dir, f)}`);
    found.set(jobOf(root, f.replace(/\.timer$/, "")), r.stdout.trim());
  }
  return found;
}

/** The resources that make the control host hold exactly `jobs` (none: remove everything lab's marker names). */
export async function scheduleResources(
  ctx: HostCtx,
  b: Backend,
  jobs: readonly ScheduleJob[],
  inv: Invocation,
): Promise<Resource[]> {
  if (b.kind === "cron") {
    return [
      crontab({
        marker: cronMarker(inv.root),
        block: cronBlock(jobs, inv),
        ...(jobs.length ? {} : { state: "absent" as const }),
      }),
    ];
  }
  const scope = b.scope;
  const managed = unitMarker(inv.root);
  const wanted = jobs.flatMap((j) => {
    const u = jobUnits(
      {
        name: installedName(inv.root, j),
        description: j.description,
        user: currentUser(),
        command: jobCommand(inv, j),
        schedule: j.schedule,
      },
      { managed, userManager: scope.user },
    );
    return [u.service, u.timer];
  });
  const names = new Set(wanted.map((u) => u.name));
  // Units of an earlier install that are no longer wanted: timers first, so nothing starts a service being removed.
  const stale = (await ctx.facts.get(markedUnitsFact(scope, inv.root)))
    .filter((n) => !names.has(n))
    .sort((a, b) => Number(b.endsWith(".timer")) - Number(a.endsWith(".timer")));
  const units = [...stale.map((name) => ({ name, content: "", state: "absent" as const })), ...wanted];
  return units.length ? [systemdUnits(`systemd-units:${scheduleMark(inv.root)}`, units, { scope })] : [];
}

/** What the timer of a job says (OnCalendar=), for status. */
export const timerCalendar = (job: ScheduleJob): string => onCalendar(job.schedule);
