// cron: one job in /etc/cron.d (the scheduler on hosts without systemd, such as
// containers). cron re-reads /etc/cron.d by itself: no reload is needed.
import type { Resource } from "../engine/types.ts";
import { badInput } from "../errors.ts";
import { file, type FileWant, type ResourceOptions } from "./file.ts";
import type { PathState } from "./path-fact.ts";

export interface CronWant {
  /** File name under /etc/cron.d: letters, digits, _ and - only (cron ignores names with a dot). */
  name: string;
  /** Five cron fields ("30 1 * * 0") or an @keyword (@daily, @weekly, ...). */
  schedule: string;
  /** The user the command runs as. */
  user: string;
  /** A POSIX sh command line (build it with `sh`); `%` is escaped for cron. */
  command: string;
  /** One line saying what the job is for (the file's first line). */
  comment?: string;
  state?: "present" | "absent";
}

const NAME = /^[A-Za-z0-9_-]+$/;
const FIELD = /^[0-9A-Za-z*,/-]+$/;
const KEYWORDS = ["@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

/** Throws a bad-input error when the schedule is not five cron fields or an @keyword. */
export function checkCronSchedule(schedule: string, what: string): string[] {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length === 1 && KEYWORDS.includes(fields[0]!)) return fields;
  if (fields.length !== 5 || !fields.every((f) => FIELD.test(f))) {
    throw badInput(
      `${what}: schedule ${JSON.stringify(schedule)} is not five cron fields (minute hour day-of-month month day-of-week)`,
      {},
      'write it like "30 1 * * 0" (Sundays at 01:30)',
    );
  }
  return fields;
}

/** A command as a crontab line holds it: cron turns an unescaped % into a newline. */
export const cronCommand = (command: string): string => command.replaceAll("%", "\\%");

/** The text of /etc/cron.d/NAME. */
export function cronFile(w: CronWant): string {
  return [
    `# ${w.comment ?? w.name} (managed by lab)`,
    "SHELL=/bin/sh",
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    `${checkCronSchedule(w.schedule, `cron ${w.name}`).join(" ")} ${w.user} ${cronCommand(w.command)}`,
    "",
  ].join("\n");
}

export const cronPath = (name: string): string => `/etc/cron.d/${name}`;

export function cron(want: CronWant, opts: ResourceOptions = {}): Resource<FileWant, PathState> {
  if (!NAME.test(want.name))
    throw badInput(
      `cron: invalid name ${JSON.stringify(want.name)}`,
      {},
      "use letters, digits, _ and - (cron ignores files with a dot)",
    );
  if (/[\r\n]/.test(want.command) || /[\r\n]/.test(want.comment ?? ""))
    throw badInput(`cron ${want.name}: the command and comment must be one line each`);
  if (!/^[a-z_][a-z0-9_-]*$/.test(want.user))
    throw badInput(`cron ${want.name}: invalid user ${JSON.stringify(want.user)}`);
  const f =
    want.state === "absent"
      ? file({ path: cronPath(want.name), state: "absent" }, opts)
      : file({ path: cronPath(want.name), content: cronFile(want), mode: "0644", owner: "root", group: "root" }, opts);
  return {
    ...f,
    id: `cron:${want.name}`,
    ok: (have) =>
      want.state === "absent"
        ? "absent"
        : `${cronPath(want.name)} is as wanted (sha256 ${have.sha256?.slice(0, 12) ?? "-"})`,
  };
}
