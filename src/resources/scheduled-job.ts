// scheduledJob: a command run on a schedule, as a systemd service + timer where
// the host runs systemd, else as an /etc/cron.d entry (containers, minimal
// hosts). Which one is a fact of the host, read at run time; the schedule is
// written once, in cron syntax, and translated for the timer.
import { pathValue, valueChange } from "./attrs-diff.ts";
import type { Change, Resource } from "../engine/types.ts";
import { ExitCode, LabError, badInput } from "../errors.ts";
import { checkCronSchedule, cronFile, cronPath, type CronWant } from "./cron.ts";
import { file, fileDiff, type ResourceOptions } from "./file.ts";
import { pathFact, type PathState } from "./path-fact.ts";
import {
  applyUnits,
  checkUnitName,
  systemdFact,
  unitDiff,
  unitDir,
  unitStateFact,
  type SystemdUnitState,
  type SystemdUnitWant,
} from "./systemd-unit.ts";
import type { Fact } from "../engine/types.ts";

export interface ScheduledJobWant {
  /** Names the cron file (NAME) or the units (NAME.service, NAME.timer). */
  name: string;
  description: string;
  user: string;
  /** A POSIX sh command line (build it with `sh`). */
  command: string;
  /** Five cron fields, e.g. "30 1 * * 0" (in the host's local time, for cron and timer alike). */
  schedule: string;
}

export interface ScheduledJobState {
  systemd: boolean;
  /** cron is installed (the job would never run without it). */
  cron: boolean;
  cronFile: PathState;
  service: SystemdUnitState;
  timer: SystemdUnitState;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** systemd OnCalendar= for five cron fields (numbers, *, lists, ranges, steps). */
export function onCalendar(schedule: string): string {
  const fields = checkCronSchedule(schedule, "schedule");
  if (fields.length !== 5)
    throw badInput(
      `schedule ${JSON.stringify(schedule)}: @keywords have no timer equivalent here`,
      {},
      'write five cron fields, e.g. "0 0 * * *" for @daily',
    );
  const [min, hour, dom, mon, dow] = fields as [string, string, string, string, string];
  const part = (f: string, first: number, what: string) =>
    f
      .split(",")
      .map((item) => {
        const step = /^(\*|\d+(?:-\d+)?)\/(\d+)$/.exec(item);
        if (step) {
          const [from, to] = step[1] === "*" ? [String(first), undefined] : step[1]!.split("-");
          if (to !== undefined)
            throw badInput(
              `schedule ${JSON.stringify(schedule)}: a stepped range (${item}) in the ${what} field has no timer equivalent`,
            );
          return `${from}/${step[2]}`;
        }
        if (item === "*" || /^\d+$/.test(item)) return item;
        const range = /^(\d+)-(\d+)$/.exec(item);
        if (range) return `${range[1]}..${range[2]}`;
        throw badInput(
          `schedule ${JSON.stringify(schedule)}: cannot read ${JSON.stringify(item)} in the ${what} field`,
          {},
          "use numbers, *, lists (1,3), ranges (1-5) and steps (*/15)",
        );
      })
      .join(",");
  const day = (d: string) => {
    if (!/^\d$/.test(d) || Number(d) > 7)
      throw badInput(`schedule ${JSON.stringify(schedule)}: day of week ${JSON.stringify(d)} must be 0-7`);
    return DAYS[Number(d)]!;
  };
  const days =
    dow === "*"
      ? ""
      : `${dow
          .split(",")
          .map((item) => {
            const r = /^(\d)-(\d)$/.exec(item);
            return r ? `${day(r[1]!)}..${day(r[2]!)}` : day(item);
          })
          .join(",")} `;
  return `${days}*-${part(mon, 1, "month")}-${part(dom, 1, "day-of-month")} ${part(hour, 0, "hour")}:${part(min, 0, "minute")}:00`;
}

/** systemd's own quoting for one ExecStart argument: "...", with \ " escaped, % and $ doubled. */
const unitArg = (s: string) =>
  `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("%", "%%").replaceAll("$", "$$$$")}"`;

/** The service and timer of a job; `managed` is the first line of both (what marks them as lab's). A user manager's units have no User=. */
export function jobUnits(
  w: ScheduledJobWant,
  opts: { managed?: string; userManager?: boolean } = {},
): { service: SystemdUnitWant; timer: SystemdUnitWant } {
  const managed = opts.managed ?? "# Managed by lab.";
  return {
    service: {
      name: `${w.name}.service`,
      content: `${managed}\n[Unit]\nDescription=${w.description}\n\n[Service]\nType=oneshot\n${opts.userManager ? "" : `User=${w.user}\n`}ExecStart=/bin/sh -c ${unitArg(w.command)}\n`,
    },
    timer: {
      name: `${w.name}.timer`,
      // Persistent: a run missed while the host was down happens at the next boot.
      content: `${managed}\n[Unit]\nDescription=${w.description} (schedule)\n\n[Timer]\nOnCalendar=${onCalendar(w.schedule)}\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n`,
      enabled: true,
      started: true,
    },
  };
}

const cronInstalled: Fact<boolean> = {
  key: "cron-installed",
  command: "test -x /usr/sbin/cron && echo yes || echo no",
  parse: (o) => o.trim() === "yes",
};

export function scheduledJob(
  want: ScheduledJobWant,
  opts: ResourceOptions = {},
): Resource<ScheduledJobWant, ScheduledJobState> {
  const cronWant: CronWant = {
    name: want.name,
    schedule: want.schedule,
    user: want.user,
    command: want.command,
    comment: want.description,
  };
  const units = jobUnits(want); // validates the schedule (and the cron entry's) before any host is contacted
  cronFile(cronWant);
  checkUnitName(units.service.name);
  const facts = {
    cronFile: pathFact(cronPath(want.name)),
    service: pathFact(`${unitDir}/${units.service.name}`),
    timer: pathFact(`${unitDir}/${units.timer.name}`),
    serviceUnit: unitStateFact(units.service.name),
    timerUnit: unitStateFact(units.timer.name),
  };
  const cronDiff = (have: ScheduledJobState): Change[] =>
    fileDiff(
      { path: cronPath(want.name), content: cronFile(cronWant), mode: "0644", owner: "root", group: "root" },
      have.cronFile,
    );
  return {
    id: `scheduled-job:${want.name}`,
    want,
    ...opts,
    facts: () => [systemdFact, cronInstalled, ...Object.values(facts)],
    async read(ctx) {
      const [systemd, cron, cronF, service, timer, serviceUnit, timerUnit] = await Promise.all([
        ctx.facts.get(systemdFact),
        ctx.facts.get(cronInstalled),
        ctx.facts.get(facts.cronFile),
        ctx.facts.get(facts.service),
        ctx.facts.get(facts.timer),
        ctx.facts.get(facts.serviceUnit),
        ctx.facts.get(facts.timerUnit),
      ]);
      return {
        systemd,
        cron,
        cronFile: cronF,
        service: { file: service, unit: serviceUnit },
        timer: { file: timer, unit: timerUnit },
      };
    },
    diff(_w, have) {
      if (have.systemd) {
        const tag =
          (prefix: string) =>
          (c: Change): Change => ({ ...c, key: `${prefix}:${c.key}` });
        return [
          ...unitDiff(units.service, have.service).map(tag("service")),
          ...unitDiff(units.timer, have.timer).map(tag("timer")),
          // A host that gained systemd must not run the job twice.
          ...(have.cronFile.kind === "absent"
            ? []
            : [
                valueChange(
                  "cron:state",
                  `remove ${cronPath(want.name)} (the timer runs the job)`,
                  pathValue(have.cronFile),
                  null,
                ),
              ]),
        ];
      }
      if (!have.cron)
        throw new LabError(
          `scheduled job ${want.name}: this host has neither systemd nor cron`,
          ExitCode.failed,
          {},
          "install cron (the base role does) or run systemd",
        );
      return cronDiff(have).map((c) => ({ ...c, key: `cron:${c.key}` }));
    },
    async apply(ctx, changes, have) {
      const of = (prefix: string) =>
        changes
          .filter((c) => c.key.startsWith(`${prefix}:`))
          .map((c) => ({ ...c, key: c.key.slice(prefix.length + 1) }));
      if (have.systemd) {
        await applyUnits(ctx, [
          { want: units.service, changes: of("service") },
          { want: units.timer, changes: of("timer") },
        ]);
        if (of("cron").length)
          await file({ path: cronPath(want.name), state: "absent" }).apply(ctx, of("cron"), have.cronFile);
      } else {
        await file({
          path: cronPath(want.name),
          content: cronFile(cronWant),
          mode: "0644",
          owner: "root",
          group: "root",
        }).apply(ctx, of("cron"), have.cronFile);
      }
      ctx.facts.invalidate(Object.values(facts).map((f) => f.key));
    },
    ok: (have) =>
      have.systemd
        ? `timer ${units.timer.name} as wanted (${onCalendar(want.schedule)})`
        : `${cronPath(want.name)} as wanted (${want.schedule})`,
  };
}
