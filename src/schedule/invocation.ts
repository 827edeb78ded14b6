// The command a timer or cron runs: absolute node, lab entry, project root and
// inventory, and the environment lab needs to run unattended (the age key file,
// the secrets file), so a scheduled run never prompts and never depends on the
// shell it was installed from. Secret values are never written: only paths.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { badInput } from "../errors.ts";
import { defaultKeyFile } from "../secrets/identity.ts";
import { quote, sh } from "../sh.ts";
import type { ScheduleJob } from "./jobs.ts";

const STANDARD_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

export interface Invocation {
  readonly node: string;
  readonly bin: string;
  readonly root: string;
  readonly inventory: string;
  /** Variables set for the job (paths only). */
  readonly env: Readonly<Record<string, string>>;
}

/** bin/lab.mjs of this checkout. */
export const labBin = (): string => resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/lab.mjs");

export function invocation(o: {
  root: string;
  inventory: string;
  env?: NodeJS.ProcessEnv;
  node?: string;
  home?: string;
}): { inv: Invocation; warnings: string[] } {
  const env = o.env ?? process.env;
  const warnings: string[] = [];
  for (const [what, p] of [
    ["project root", o.root],
    ["inventory", o.inventory],
  ] as const) {
    if (/[\r\n%]/.test(p))
      throw badInput(
        `${what} ${JSON.stringify(p)}: a scheduled command cannot hold a newline or %`,
        {},
        "move the project to a plain path",
      );
  }
  const node = o.node ?? process.execPath;
  const home = o.home ?? homedir();
  const vars: Record<string, string> = {
    HOME: home,
    // cron's PATH is /usr/bin:/bin: the node that installed the job comes first.
    PATH: [...new Set([dirname(node), ...STANDARD_PATH])].join(":"),
  };
  if (env.LAB_AGE_KEY_FILE) vars.LAB_AGE_KEY_FILE = resolve(o.root, env.LAB_AGE_KEY_FILE);
  else if (env.LAB_AGE_KEY)
    warnings.push(
      "LAB_AGE_KEY is set, and a key is never written into a schedule: the jobs will look for ~/.config/lab/age.key; set LAB_AGE_KEY_FILE to a key file instead",
    );
  else {
    const key = defaultKeyFile({ env, home });
    if (existsSync(key)) vars.LAB_AGE_KEY_FILE = key;
    else
      warnings.push(
        `no age key at ${key}: jobs that need a secret (API tokens, repository passphrases) will fail; run \`lab secrets init\` or set LAB_AGE_KEY_FILE`,
      );
  }
  if (env.LAB_SECRETS_FILE) vars.LAB_SECRETS_FILE = resolve(o.root, env.LAB_SECRETS_FILE);
  return { inv: { node, bin: labBin(), root: o.root, inventory: o.inventory, env: vars }, warnings };
}

/** The POSIX sh command line of a job; with `log`, its output is appended to <root>/.lab/schedule/NAME.log (cron mails nothing here). */
export function jobCommand(inv: Invocation, job: ScheduleJob, opts: { log?: boolean } = {}): string {
  const assignments = Object.entries(inv.env).map(([k, v]) => `${k}=${v}`);
  const run = sh`exec env ${assignments} ${inv.node} ${inv.bin} -C ${inv.root} -i ${inv.inventory} ${[...job.args]}`;
  if (!opts.log) return sh`cd ${inv.root} && ` + run;
  const log = join(".lab", "schedule", `${job.name}.log`);
  return sh`cd ${inv.root} && mkdir -p .lab/schedule && ` + `${run} >>${quote(log)} 2>&1`;
}
