// What `lab schedule` installs on the control host: the nightly `lab backup
// --run`, the weekly `lab backup verify` and the quarterly `lab drill`. One
// source of truth for every schedule: five cron fields, taken from a flag, else
// from the backup policy, else a default; the systemd timer's OnCalendar= and the
// next run are both computed from them. Pure.
import { Cron } from "croner";
import { cronLongestGap } from "../backup/policy-check.ts";
import type { BackupPolicy } from "../backup/policy.ts";
import { formatDuration } from "../backup/duration.ts";
import { badInput } from "../errors.ts";
import { checkCronSchedule } from "../resources/cron.ts";
import { onCalendar } from "../resources/scheduled-job.ts";

export type JobKind = "backup" | "verify" | "drill";

export interface ScheduleJob {
  /** The job's name; installed as NAME-PROJECT (see installedName in backend.ts). */
  readonly name: string;
  readonly kind: JobKind;
  readonly description: string;
  /** Five cron fields, in the control host's local time. */
  readonly schedule: string;
  /** Where the schedule came from: a flag, a key of the policy, or the default. */
  readonly source: string;
  /** lab's arguments after the global options. */
  readonly args: readonly string[];
}

export interface ScheduleFlags {
  readonly backup?: string;
  readonly verify?: string;
  readonly drill?: string;
}

export const DEFAULTS = {
  /** Nightly at 02:30. */
  backup: "30 2 * * *",
  /** Sundays at 03:30. */
  verify: "30 3 * * 0",
  /** 04:00 on the first day of each quarter. */
  drill: "0 4 1 1,4,7,10 *",
} as const;

/** Drill schedules from the least to the most frequent: the first that fits drill_every is used. */
const DRILL_CANDIDATES: readonly { schedule: string; what: string; fitsSec: number }[] = [
  // Quarterly: the policy's own "quarterly: 90d" (calendar quarters are 90-92 days apart).
  { schedule: DEFAULTS.drill, what: "quarterly", fitsSec: 90 * 86_400 },
  { schedule: "0 4 1 * *", what: "monthly", fitsSec: 28 * 86_400 },
  { schedule: "0 4 * * 0", what: "weekly", fitsSec: 7 * 86_400 },
  { schedule: "0 4 * * *", what: "daily", fitsSec: 0 },
];

/** A schedule given by the user: five cron fields that croner reads and systemd can express. */
export function checkSchedule(schedule: string, what: string): string {
  const fields = checkCronSchedule(schedule, what);
  if (fields.length !== 5)
    throw badInput(
      `${what}: ${JSON.stringify(schedule)}: use five cron fields (an @keyword has no timer equivalent)`,
      {},
      'e.g. "30 2 * * *" (nightly at 02:30)',
    );
  try {
    new Cron(schedule);
  } catch (e) {
    throw badInput(
      `${what}: ${JSON.stringify(schedule)} is not a cron expression: ${(e as Error).message}`,
      {},
      'e.g. "30 2 * * *" (nightly at 02:30)',
    );
  }
  onCalendar(schedule); // the timer must be able to say it too
  return fields.join(" ");
}

/** The jobs to install, and notes on how their schedules were chosen. A policy file given by hand is passed on to every job. */
export function plannedJobs(
  policy: BackupPolicy,
  flags: ScheduleFlags,
  now: Date,
  policyFile?: string,
): { jobs: ScheduleJob[]; notes: string[] } {
  const { jobs, notes } = jobsFor(policy, flags, now);
  if (!policyFile) return { jobs, notes };
  const withPolicy = (args: readonly string[]) => [args[0]!, "--policy", policyFile, ...args.slice(1)];
  return { jobs: jobs.map((j) => ({ ...j, args: withPolicy(j.args) })), notes };
}

function jobsFor(policy: BackupPolicy, flags: ScheduleFlags, now: Date): { jobs: ScheduleJob[]; notes: string[] } {
  const notes: string[] = [];
  const jobs: ScheduleJob[] = [
    {
      name: "lab-backup",
      kind: "backup",
      description: "lab backup --run: take what is due, check every target",
      args: ["backup", "--run"],
      ...(flags.backup
        ? { schedule: checkSchedule(flags.backup, "--backup"), source: "--backup" }
        : { schedule: DEFAULTS.backup, source: "default: nightly 02:30" }),
    },
  ];

  // `lab backup verify`: the PostgreSQL targets' schedule.verify; one job per distinct schedule.
  if (flags.verify) {
    jobs.push({
      name: "lab-backup-verify",
      kind: "verify",
      description: "lab backup verify: pgbackrest verify and PBS verify state",
      args: ["backup", "verify"],
      schedule: checkSchedule(flags.verify, "--verify"),
      source: "--verify",
    });
  } else {
    const groups = new Map<string, { targets: string[]; source: string }>();
    for (const t of policy.targets) {
      const own = t.kind === "postgres" ? t.schedule.verify : undefined;
      const key = own ? checkSchedule(own, `postgres target ${t.name}: schedule.verify`) : DEFAULTS.verify;
      const g = groups.get(key) ?? {
        targets: [],
        source: own ? `policy: postgres.${t.name}.schedule.verify` : "default: weekly, Sunday 03:30",
      };
      g.targets.push(t.name);
      groups.set(key, g);
    }
    if (!groups.size) groups.set(DEFAULTS.verify, { targets: [], source: "default: weekly, Sunday 03:30" });
    const single = groups.size === 1;
    for (const [schedule, g] of groups) {
      jobs.push({
        name: single ? "lab-backup-verify" : `lab-backup-verify-${g.targets[0]!}`,
        kind: "verify",
        schedule,
        description: `lab backup verify${single ? "" : ` ${g.targets.join(" ")}`}: pgbackrest verify and PBS verify state`,
        args: ["backup", "verify", ...(single ? [] : g.targets)],
        source:
          g.targets.length > 1 && g.source.startsWith("policy")
            ? `${g.source}, also ${g.targets.slice(1).join(", ")}`
            : g.source,
      });
    }
  }

  // `lab drill`: only PostgreSQL targets are drilled; often enough for the strictest drill_every.
  const pg = policy.postgres;
  if (flags.drill) {
    jobs.push({
      name: "lab-drill",
      kind: "drill",
      description: "lab drill: restore drills of every PostgreSQL target",
      args: ["drill"],
      schedule: checkSchedule(flags.drill, "--drill"),
      source: "--drill",
    });
  } else if (!pg.length) {
    notes.push(
      "lab-drill: not installed: the policy has no PostgreSQL target to drill (pass --drill to install it anyway)",
    );
  } else {
    const strictest = pg.reduce((a, b) => (b.drillEverySec < a.drillEverySec ? b : a));
    const pick = DRILL_CANDIDATES.find((c) => c.fitsSec <= strictest.drillEverySec)!;
    jobs.push({
      name: "lab-drill",
      kind: "drill",
      description: "lab drill: restore drills of every PostgreSQL target",
      args: ["drill"],
      schedule: pick.schedule,
      source: `policy: drill_every ${formatDuration(strictest.drillEverySec)} of ${strictest.name}, ${pick.what}`,
    });
    const gap = cronLongestGap([pick.schedule], strictest.timezone, now, 400);
    if (gap > strictest.drillEverySec) {
      notes.push(
        `lab-drill: ${pick.what} runs leave up to ${formatDuration(gap)} between drills, more than drill_every ${formatDuration(strictest.drillEverySec)} of ${strictest.name}: lab backup warns in the days before a drill (set drill_every: 92d, or pass --drill)`,
      );
    }
  }
  return { jobs, notes };
}

/** The next run of a schedule after `from`, in the control host's local time (as cron and systemd timers run it) unless a zone is given. */
export function nextRun(schedule: string, from: Date, timezone?: string): Date | undefined {
  return new Cron(schedule, timezone ? { timezone } : {}).nextRun(from) ?? undefined;
}
