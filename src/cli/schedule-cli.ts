// `lab schedule install|status|remove` on the command line: the same options on
// each subcommand; the command itself is loaded on demand.
import { Option, type Command } from "commander";
import { resolve } from "node:path";

interface Flags {
  using: "auto" | "systemd" | "cron";
  user?: boolean;
  json?: boolean;
  policy?: string;
  backup?: string;
  verify?: string;
  drill?: string;
}

export function registerScheduleCommands(
  program: Command,
  setCode: (code: number) => void,
  ctx: { verbose: () => boolean; argv: string[]; signal: AbortSignal },
): void {
  const schedule = program
    .command("schedule")
    .description(
      "the nightly `lab backup --run`, weekly `lab backup verify` and quarterly `lab drill` on this machine (systemd timers, or the crontab without systemd)",
    );
  const common = (cmd: Command, schedules: boolean) => {
    cmd
      .addOption(
        new Option("--using <kind>", "systemd timers or the user's crontab (auto: systemd where it runs)")
          .choices(["auto", "systemd", "cron"])
          .default("auto"),
      )
      .option(
        "--user",
        "systemd: the user's own manager (systemctl --user); without it root gets the system's, anyone else their own",
      )
      .option("--policy <file>", "backup policy (default backups/policy.yaml)")
      .option("--json", "print the result as JSON (format_version 1)");
    if (schedules) {
      cmd
        .option(
          "--backup <cron>",
          'schedule of `lab backup --run` (five cron fields, local time; default "30 2 * * *")',
        )
        .option(
          "--verify <cron>",
          "schedule of `lab backup verify` (default: the policy's schedule.verify, else Sundays 03:30)",
        )
        .option(
          "--drill <cron>",
          "schedule of `lab drill` (default: quarterly, or as often as the policy's drill_every needs)",
        );
    }
    return cmd;
  };
  const action = (name: "install" | "status" | "remove") => async (o: Flags) => {
    const g = program.opts<{ root: string; inventory: string }>();
    const root = resolve(g.root);
    const { scheduleCommand } = await import("./schedule-command.ts");
    setCode(
      await scheduleCommand(name, {
        root,
        inventory: resolve(root, g.inventory),
        using: o.using,
        user: Boolean(o.user),
        json: Boolean(o.json),
        verbose: ctx.verbose(),
        argv: ctx.argv,
        signal: ctx.signal,
        flags: {
          ...(o.backup ? { backup: o.backup } : {}),
          ...(o.verify ? { verify: o.verify } : {}),
          ...(o.drill ? { drill: o.drill } : {}),
        },
        ...(o.policy ? { policy: o.policy } : {}),
      }),
    );
  };
  common(
    schedule.command("install").description("install (or update) the jobs; a second install changes nothing"),
    true,
  ).action(action("install"));
  common(
    schedule
      .command("status")
      .description("per job: its schedule, next run, last result, and whether what is installed matches"),
    true,
  ).action(action("status"));
  common(
    schedule
      .command("remove")
      .description("remove exactly the jobs lab installed for this project (other crontab lines and units stay)"),
    false,
  ).action(action("remove"));
}
