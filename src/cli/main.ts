// argv -> commands. The only place that decides the process's exit code.
// Commands' modules are imported in their action (`await import(...)`), so start-up and
// --help load only commander and this file; statically imported here: only what is light.
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ExitCode, LabError } from "../errors.ts";
import { redact } from "../secrets/secret.ts";
import { wholeNumber } from "./number-option.ts";
import { listOption, registerEverydayCommands } from "./everyday-commands.ts";
import { installSignals } from "./signals.ts";
import { registerBackupCommands } from "./backup-command.ts";
import { registerScheduleCommands } from "./schedule-cli.ts";
import { jsonError } from "./json-error.ts";

const collect = (v: string, prev: string[]) => [...prev, v];
const list = (v: string, prev: string[]) => [
  ...prev,
  ...v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
];

/** The EPIPE guard below is installed once per process (main() may run many times in tests). */
let pipesGuarded = false;

/** `inspect`: hand the built program to a reader (scripts/gen-reference.ts) instead of running it. */
export async function main(argv: string[], hooks: { inspect?: (program: Command) => void } = {}): Promise<number> {
  let code: number = ExitCode.ok;
  let verbose = argv.includes("-v") || argv.includes("--verbose");
  // SIGINT, SIGTERM, SIGHUP: the first winds down, the second stops at once (after the hard-exit hooks).
  const signals = installSignals();
  // A reader that stops early (`lab secrets list | grep -q x`, `| head`) closes the pipe: like any
  // Unix tool, stop writing and exit quietly instead of crashing on the EPIPE.
  for (const out of pipesGuarded ? [] : [process.stdout, process.stderr]) {
    pipesGuarded = true;
    out.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "EPIPE") throw e;
      process.exit(process.exitCode ?? ExitCode.ok);
    });
  }

  const program = new Command("lab")
    .description("Typed, agentless configuration for a Proxmox homelab: read -> diff -> apply.")
    .version(
      (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version,
    )
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .option("-C, --root <dir>", "project root (holds inventory/, playbooks/, templates/)", ".")
    .addOption(
      new Option("-i, --inventory <path>", "inventory file or folder").env("LAB_INVENTORY").default("inventory"),
    )
    .option("-v, --verbose", "show ok steps, commands and stack traces")
    // lab.config.yaml: defaults for what a flag or LAB_* variable did not set.
    .hook("preAction", async (_program, action) =>
      (await import("./config-defaults.ts")).applyProjectConfig(program, action),
    );

  const runOpts = (cmd: Command) =>
    cmd
      .argument("[playbook]", "playbook file", "playbooks/site.ts")
      .option("-l, --limit <pattern>", "only these hosts/groups (web:db, all:!db, web*)")
      .option("-t, --tags <tags>", "only steps with these tags (comma list)", list, [])
      .option("--skip-tags <tags>", "skip steps with these tags", list, [])
      .addOption(
        new Option("-f, --forks <n>", "hosts in parallel").env("LAB_FORKS").default(10).argParser(wholeNumber(1)),
      )
      .option("-e, --extra-vars <vars>", "key=value, JSON, or @file (highest precedence)", collect, [])
      .option("--json", "print a machine-readable JSON report on stdout")
      .addOption(
        new Option("--lock-timeout <seconds>", "wait this long for another apply to finish")
          .env("LAB_LOCK_TIMEOUT")
          .default(0)
          .argParser(wholeNumber(0)),
      )
      .option("--list-hosts", "only list the hosts of each play (nothing is contacted)")
      .option("--list-tags", "only list the tags of each play")
      .option("--list-tasks", "only list each host's steps")
      .option("--no-color", "plain diffs even on a terminal (also: NO_COLOR=1)");

  const doRun = async (playbook: string, o: Record<string, unknown>, check: boolean) => {
    const g = program.opts<{ root: string; inventory: string }>();
    const root = resolve(g.root);
    const { runCommand } = await import("./run-command.ts");
    const { parseExtraVars } = await import("./extra-vars.ts");
    const { readSavedPlan } = await import("./saved-plan-arg.ts");
    // `lab apply FILE`: the playbook and selection come from the plan, never from flags.
    const saved = check ? undefined : readSavedPlan(resolve(root, playbook), o);
    const list = listOption(o);
    let confirm: ((q: string) => Promise<boolean>) | undefined;
    if (!check && !list.list) {
      const { applyConsent, terminalConfirm } = await import("./confirm.ts");
      const how = applyConsent({
        yes: Boolean(o.yes),
        saved: Boolean(saved),
        stdin: process.stdin,
        stderr: process.stderr,
      });
      if (how === "ask") confirm = terminalConfirm(process.stdin, process.stderr, signals.signal);
    }
    const sel = saved?.plan.selection;
    const r = await runCommand({
      root,
      inventory: resolve(root, g.inventory),
      playbook: resolve(root, sel ? saved.plan.playbook : playbook),
      check,
      forks: o.forks as number,
      ...(sel ? (sel.limit ? { limit: sel.limit } : {}) : o.limit ? { limit: o.limit as string } : {}),
      tags: sel?.tags ?? (o.tags as string[]),
      skipTags: sel?.skipTags ?? (o.skipTags as string[]),
      extraVars: sel?.extraVars ?? parseExtraVars(o.extraVars as string[]),
      ...(saved ? { saved } : {}),
      ...(confirm ? { confirm } : {}),
      ...(o.out ? { planOut: resolve(o.out as string) } : {}),
      json: Boolean(o.json),
      verbose,
      detailedExitCode: Boolean(o.detailedExitcode),
      lockTimeout: o.lockTimeout as number,
      ...list,
      ...(o.color === false ? { color: false } : {}),
      argv,
      signals,
    });
    code = r.code;
  };

  runOpts(program.command("plan").description("show what apply would change; change nothing (= apply --check)"))
    .option("--detailed-exitcode", "exit 10 when the plan has changes")
    .option(
      "-o, --out <file>",
      "also save the plan to FILE, for `lab apply FILE` (applies exactly it, or refuses on drift)",
    )
    .action((pb: string, o: Record<string, unknown>) => doRun(pb, o, true));
  runOpts(
    program
      .command("apply")
      .description(
        "converge hosts, then read back and fail on any remaining difference; [playbook] may be a saved plan (lab plan -o)",
      ),
  )
    .option("--check", "plan only")
    .option("-y, --yes", "apply without asking (needed when not on a terminal, unless applying a saved plan)")
    .action((pb: string, o: Record<string, unknown>) => doRun(pb, o, Boolean(o.check)));

  program
    .command("check")
    .description(
      "type-check playbooks and roles, validate the inventory and every playbook's role vars (no host is contacted)",
    )
    .argument("[playbooks...]", "playbooks (default: playbooks/*.ts)")
    .action(async (pbs: string[]) => {
      const g = program.opts<{ root: string; inventory: string }>();
      const root = resolve(g.root);
      const { checkCommand } = await import("./check-command.ts");
      code = await checkCommand({ root, inventory: resolve(root, g.inventory), playbooks: pbs, out: process.stdout });
    });

  program
    .command("init")
    .description("scaffold a lab repository of your own in DIR (package.json, inventory/, playbooks/site.ts, ...)")
    .argument("<dir>", "a new or empty folder")
    .action(async (dir: string) => {
      const { initCommand } = await import("./init-command.ts");
      code = await initCommand({ dir: resolve(dir), shown: dir, out: process.stdout });
    });

  const hosts = program.command("hosts").description("manage host keys");
  hosts
    .command("trust")
    .description("pin hosts' SSH keys in their known_hosts (shows each fingerprint)")
    .argument("<hosts...>", "hosts, groups or patterns (web1 db1, docker_hosts, web*)")
    .option("--fingerprint <SHA256:...>", "only pin if the key has this fingerprint (one host)")
    .action(async (names: string[], o: { fingerprint?: string }) => {
      const g = program.opts<{ root: string; inventory: string }>();
      const root = resolve(g.root);
      const { loadInventory } = await import("../inventory/inventory.ts");
      const { hostsTrust } = await import("./hosts-command.ts");
      // VMs' .pub keys are not needed to pin a host key: a key the demo has not made yet is no error here.
      const inv = await loadInventory({ path: resolve(root, g.inventory), root, missingKeyFiles: "stand-in" });
      code = await hostsTrust(inv, names, o.fingerprint, process.stdout);
    });

  registerEverydayCommands(program, { verbose: () => verbose, argv, signal: signals.signal }, (c) => {
    code = c;
  });

  const secrets = program
    .command("secrets")
    .description("the age-encrypted secrets file (secrets.age, safe to commit)")
    .option(
      "--file <path>",
      "secrets file (default $LAB_SECRETS_FILE, else secrets_file of lab.config.yaml, else secrets.age in the project root)",
    );
  const sopts = () => {
    const file = secrets.opts<{ file?: string }>().file ?? process.env.LAB_SECRETS_FILE;
    return { root: resolve(program.opts<{ root: string }>().root), ...(file ? { file } : {}) };
  };
  const sec = () => import("./secrets-command.ts");
  secrets
    .command("init")
    .description("create a key (~/.config/lab/age.key) and an empty secrets file")
    .action(async () => {
      code = await (await sec()).secretsInit(sopts());
    });
  secrets
    .command("list")
    .description("names only")
    .action(async () => {
      code = await (await sec()).secretsList(sopts());
    });
  secrets
    .command("get")
    .argument("<name>")
    .description("print one value (the only command that does)")
    .action(async (n: string) => {
      code = await (await sec()).secretsGet(n, sopts());
    });
  secrets
    .command("set")
    .argument("<name>")
    .description(
      "set a value: typed without echo on a terminal, else read from stdin (never from argv: it would land in shell history)",
    )
    .action(async (n: string) => {
      code = await (
        await sec()
      ).secretsSet(n, await (await import("./read-hidden.ts")).secretInput(n, process.stdin, process.stderr), sopts());
    });
  secrets
    .command("rm")
    .argument("<name>")
    .action(async (n: string) => {
      code = await (await sec()).secretsRemove(n, sopts());
    });
  secrets
    .command("edit")
    .description("edit in $EDITOR (a private temp copy, removed afterwards)")
    .action(async () => {
      code = await (await sec()).secretsEdit({ ...sopts(), signals });
    });
  secrets
    .command("rekey")
    .description("re-encrypt for the recipients in .age-recipients")
    .action(async () => {
      code = await (await sec()).secretsRekey(sopts());
    });

  // `lab import ansible`: loaded on demand (only this command needs the importer).
  program
    .command("import")
    .description("convert another tool's inventory into a lab inventory")
    .command("ansible")
    .argument("<inventory>", "Ansible inventory file or folder (what you pass to ansible -i)")
    .description(
      "convert an Ansible inventory (INI or YAML, group_vars/, host_vars/) and list what could not be converted",
    )
    .option("-o, --out <dir>", "output folder (writes hosts.yaml) or .yaml file", "inventory")
    .option("--force", "replace an existing output file")
    .action(async (src: string, o: { out: string; force?: boolean }) => {
      const root = resolve(program.opts<{ root: string }>().root);
      const { importAnsible } = await import("./import-command.ts");
      code = await importAnsible({
        root,
        source: resolve(root, src),
        out: resolve(root, o.out),
        force: Boolean(o.force),
        stdout: process.stdout,
      });
    });

  const backup = program
    .command("backup")
    .description(
      "the nightly check: every target of backups/policy.yaml against its RPO and schedule (exit 6 on a breach)",
    )
    .argument("[targets...]", "only these targets (names in the policy)")
    .option("--run", "first take the backups that are due (pgBackRest per repository, vzdump per VM)")
    .option("--json", "print the report as JSON (format_version 1)")
    .option("--policy <file>", "backup policy (default backups/policy.yaml)")
    .option(
      "--metrics-dir <dir>",
      "where lab-backup.prom goes (node-exporter textfile collector; default .lab/metrics)",
    )
    .option(
      "--as-of <time>",
      "judge ages and lags as of this ISO time instead of now (what-if: will anything be overdue tomorrow?)",
    )
    .action(
      async (
        targets: string[],
        o: { run?: boolean; json?: boolean; policy?: string; metricsDir?: string; asOf?: string },
      ) => {
        const g = program.opts<{ root: string; inventory: string }>();
        const root = resolve(g.root);
        const { backupCheckCommand } = await import("./backup-check-command.ts");
        const asOf = o.asOf === undefined ? undefined : new Date(o.asOf);
        if (asOf && Number.isNaN(asOf.getTime()))
          throw new LabError(
            `--as-of ${o.asOf}: not a time`,
            ExitCode.badInput,
            {},
            "use ISO 8601, e.g. 2026-12-02T06:00:00Z",
          );
        code = await backupCheckCommand({
          root,
          inventory: resolve(root, g.inventory),
          targets,
          run: Boolean(o.run),
          json: Boolean(o.json),
          verbose,
          argv,
          signal: signals.signal,
          ...(asOf ? { now: () => asOf } : {}),
          ...(o.policy ? { policy: o.policy } : {}),
          ...(o.metricsDir ? { metricsDir: resolve(o.metricsDir) } : {}),
        });
      },
    );
  backup
    .command("verify")
    .description(
      "weekly: pgbackrest verify of every repository and the PBS verify state of every VM backup (exit 6 on damage)",
    )
    .argument("[targets...]", "only these targets")
    .option("--json", "print the results as JSON")
    .action(async (targets: string[], o: { json?: boolean }) => {
      const g = program.opts<{ root: string; inventory: string }>();
      const root = resolve(g.root);
      const parent = backup.opts<{ policy?: string; metricsDir?: string; json?: boolean }>();
      const { backupVerifyCommand } = await import("./backup-check-command.ts");
      code = await backupVerifyCommand({
        root,
        inventory: resolve(root, g.inventory),
        targets,
        run: false,
        json: Boolean(o.json ?? parent.json),
        verbose,
        argv,
        signal: signals.signal,
        ...(parent.policy ? { policy: parent.policy } : {}),
        ...(parent.metricsDir ? { metricsDir: resolve(parent.metricsDir) } : {}),
      });
    });

  registerBackupCommands(
    backup,
    (c) => {
      code = c;
    },
    () => verbose,
  );

  program
    .command("drill")
    .description(
      "restore drills: restore every PostgreSQL target into a scratch copy and every VM target's VMs to scratch VMs on the Lab VLAN, check them, measure RPO and RTO (exit 7 on a failed drill)",
    )
    .argument("[targets...]", "only these targets (names in the policy)")
    .option("--json", "print the report as JSON (format_version 1)")
    .option("--policy <file>", "backup policy (default backups/policy.yaml)")
    .option("--drills <file>", "drill definitions (default backups/drills.yaml)")
    .option("--metrics-dir <dir>", "where lab-drill.prom goes (node-exporter textfile collector; default .lab/metrics)")
    .option(
      "--older",
      "VM targets: restore a randomly chosen older retained backup too (otherwise once per older_every, default the target's drill_every)",
    )
    .addOption(
      new Option(
        "--seed <n>",
        "seed of the random older-backup pick (default: from the run id; the report records it)",
      ).argParser((v) => {
        if (!/^\d+$/.test(v) || Number(v) > 0xffffffff)
          throw new InvalidArgumentError("a whole number from 0 to 4294967295");
        return Number(v);
      }),
    )
    .action(
      async (
        targets: string[],
        o: { json?: boolean; policy?: string; drills?: string; metricsDir?: string; older?: boolean; seed?: number },
      ) => {
        const g = program.opts<{ root: string; inventory: string }>();
        const root = resolve(g.root);
        const { drillCommand } = await import("./drill-command.ts");
        code = await drillCommand({
          root,
          inventory: resolve(root, g.inventory),
          targets,
          json: Boolean(o.json),
          verbose,
          argv,
          signal: signals.signal,
          ...(o.policy ? { policy: o.policy } : {}),
          ...(o.drills ? { drills: o.drills } : {}),
          ...(o.metricsDir ? { metricsDir: resolve(o.metricsDir) } : {}),
          ...(o.older ? { older: true } : {}),
          ...(o.seed !== undefined ? { seed: o.seed } : {}),
        });
      },
    );

  registerScheduleCommands(
    program,
    (c) => {
      code = c;
    },
    { verbose: () => verbose, argv, signal: signals.signal },
  );

  program
    .command("sim")
    .description("run the built-in Proxmox VE simulator (HTTPS on loopback) until Ctrl-C")
    .option("--state <dir>", "state, TLS certificate and token secret", ".lab/sim")
    .addOption(new Option("--port <n>", "PVE API port").default(8006).argParser(wholeNumber(1, 65535)))
    .addOption(
      new Option("--pbs-port <n>", "Proxmox Backup Server API port (default: a free one, printed)").argParser(
        wholeNumber(1, 65535),
      ),
    )
    .addOption(
      new Option(
        "--guests <kind>",
        "what a started VM is: none (state only) or containers (a Debian container with sshd per VM)",
      )
        .choices(["none", "containers"])
        .default("none"),
    )
    .option(
      "--guest-image <image>",
      "the Docker image a --guests containers VM boots (default lab-testhost:bookworm; it needs sshd and sh)",
    )
    .option(
      "--nodes <names>",
      "cluster nodes, comma-separated (default pve; added to an existing state); two or more add the shared storage 'shared'",
    )
    .action(
      async (o: {
        state: string;
        port: number;
        pbsPort?: number;
        guests: string;
        guestImage?: string;
        nodes?: string;
      }) => {
        const root = resolve(program.opts<{ root: string }>().root);
        // Loaded on demand: the simulator (and its schema) are not needed by other commands.
        const { simCommand } = await import("../sim/main.ts");
        const { containerGuests } = await import("../sim/container-guests.ts");
        if (o.guestImage && o.guests !== "containers")
          throw new LabError("--guest-image needs --guests containers", ExitCode.badInput);
        const guestBackend =
          o.guests === "containers"
            ? containerGuests({ prefix: "lab-sim", ...(o.guestImage ? { image: o.guestImage } : {}) })
            : undefined;
        // The first SIGINT/SIGTERM/SIGHUP stops the simulator (and its guests); a second exits at once.
        const until = new Promise((stop) => signals.signal.addEventListener("abort", stop, { once: true }));
        for (const [flag, n] of [
          ["--port", o.port],
          ["--pbs-port", o.pbsPort],
        ] as const) {
          if (n !== undefined && !(Number.isInteger(n) && n >= 1 && n <= 65535))
            throw new LabError(`${flag}: a port number 1-65535, not ${String(n)}`, ExitCode.badInput);
        }
        const nodes = o.nodes?.split(",").map((n) => n.trim());
        const badNode = nodes?.find((n) => !/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(n));
        if (badNode !== undefined || (nodes && new Set(nodes).size !== nodes.length))
          throw new LabError(
            `--nodes: distinct node names (letters, digits, -), not "${o.nodes ?? ""}"`,
            ExitCode.badInput,
            {},
            "e.g. --nodes pve,pve2,pve3",
          );
        code = await simCommand({
          stateDir: resolve(root, o.state),
          ...(nodes ? { nodes } : {}),
          port: o.port,
          pbsPort: o.pbsPort,
          verbose,
          until,
          ...(guestBackend ? { guestBackend } : {}),
        }).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== "EADDRINUSE") throw e;
          throw new LabError(
            `a port (${o.port}${o.pbsPort ? ` or ${o.pbsPort}` : ""}) is in use (another simulator?)`,
            ExitCode.badInput,
            {},
            "stop the other process or pass --port / --pbs-port",
          );
        });
      },
    );

  if (hooks.inspect) {
    signals.dispose();
    hooks.inspect(program);
    return code;
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    verbose = Boolean(program.opts<{ verbose?: boolean }>().verbose);
  } catch (e) {
    code = report(e, verbose);
    // --json: the error as an object on stdout as well, for the program reading it.
    if (code !== ExitCode.ok && isConvergeJson(argv)) process.stdout.write(`${redact(jsonError(e, code))}\n`);
  } finally {
    signals.dispose();
  }
  return code;
}

/** `lab plan|apply ... --json`: the commands whose report docs/schema/report.schema.json describes. */
function isConvergeJson(argv: string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (["-C", "--root", "-i", "--inventory"].includes(a)) i++;
    else if (!a.startsWith("-")) return (a === "plan" || a === "apply") && argv.includes("--json");
  }
  return false;
}

function report(e: unknown, verbose: boolean): number {
  if (e instanceof CommanderError) {
    return e.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
  }
  if (e instanceof LabError) {
    process.stderr.write(`lab: error: ${redact(e.format())}\n`);
    if (verbose && e.stack) process.stderr.write(`${redact(e.stack)}\n`);
    return e.code;
  }
  process.stderr.write(
    `lab: internal error (a bug in lab): ${redact(e instanceof Error ? (verbose ? (e.stack ?? e.message) : e.message) : String(e))}\n`,
  );
  if (!verbose) process.stderr.write("lab: run with -v for the stack trace\n");
  return ExitCode.internal;
}
