// postgresRunning: the cluster is running and its LIVE settings are the wanted
// ones. A config file on disk is not yet in effect: this reads pg_settings and
// reloads (or restarts, for settings PostgreSQL reads only at start, such as
// archive_mode) until the server itself reports the wanted values.
import { valueChange } from "../attrs-diff.ts";
import type { Change, Fact, HostCtx, Resource } from "../../engine/types.ts";
import { ExitCode, LabError, badInput } from "../../errors.ts";
import { sh } from "../../sh.ts";
import type { ResourceOptions } from "../file.ts";
import { run } from "../run.ts";
import { withFact } from "../with-fact.ts";
import { checkCluster } from "./cluster.ts";

export interface RunningWant {
  version: number;
  name: string;
  port: number;
  /** Setting -> value as pg_settings.setting shows it (base unit: archive_timeout "60", not "1min"). */
  settings: Record<string, string>;
}

export interface LiveSetting {
  setting: string;
  /** postmaster: read at start only (restart); anything else: reload. */
  context: string;
}

export interface RunningState {
  status: "online" | "down" | "absent";
  settings: Record<string, LiveSetting>;
  /** psql could not ask the running server (its message). */
  error?: string;
}

const SEP = "\x1f";
const SETTING = /^[a-z_][a-z0-9_.]*$/;

/** psql as postgres over the cluster's socket: no password, no ~/.psqlrc. */
export const psql = (port: number, sql: string): string =>
  sh`runuser -u postgres -- psql -X -q -A -t -p ${port} -F ${SEP} -c ${sql}`;

export function runningFact(w: RunningWant): Fact<RunningState> {
  const names = Object.keys(w.settings).sort();
  const sql = `select name, setting, context from pg_settings where name in (${names.map((n) => `'${n}'`).join(", ") || "''"})`;
  return {
    key: `pg-running:${w.version}/${w.name}:${names.join(",")}`,
    command:
      sh`v=${w.version} c=${w.name}
st=$(pg_lsclusters -h 2>/dev/null | awk -v v="$v" -v c="$c" '$1 == v && $2 == c {print $4}')
[ -n "$st" ] || { echo absent; exit 0; }
case "$st" in online*) echo online ;; *) echo down; exit 0 ;; esac
` +
      psql(w.port, sql) +
      " 2>&1 || echo @@psql-failed",
    parse: parseRunning,
  };
}

export function parseRunning(out: string): RunningState {
  const [status = "absent", ...rows] = out.trim().split("\n");
  if (rows.at(-1) === "@@psql-failed")
    return { status: "online", settings: {}, error: rows.slice(0, -1).join(" ").slice(0, 300) || "psql failed" };
  const settings: Record<string, LiveSetting> = {};
  for (const row of rows) {
    const [name, setting, context] = row.split(SEP);
    if (name && setting !== undefined && context) settings[name] = { setting, context };
  }
  return { status: status === "online" ? "online" : status === "down" ? "down" : "absent", settings };
}

export function runningDiff(want: RunningWant, have: RunningState): Change[] {
  const label = `${want.version}/${want.name}`;
  if (have.status === "absent")
    return [valueChange("start", `start cluster ${label} (once it is created)`, "absent", "running")];
  if (have.status === "down") return [valueChange("start", `start cluster ${label}`, "down", "running")];
  if (have.error)
    throw new LabError(
      `cluster ${label} is running but psql cannot ask it for its settings: ${have.error}`,
      ExitCode.failed,
      {},
      `check the cluster's log (/var/log/postgresql/postgresql-${label.replace("/", "-")}.log) and that port ${want.port} is its port`,
    );
  const out: Change[] = [];
  for (const [name, value] of Object.entries(want.settings).sort(([a], [b]) => a.localeCompare(b))) {
    const live = have.settings[name];
    if (!live)
      throw new LabError(
        `cluster ${label}: PostgreSQL has no setting ${name}`,
        ExitCode.failed,
        {},
        "check the setting's name for this PostgreSQL version",
      );
    if (live.setting === value) continue;
    const restart = live.context === "postmaster";
    out.push(
      valueChange(
        restart ? "restart" : "reload",
        `${name}: ${JSON.stringify(live.setting)} -> ${JSON.stringify(value)} (${restart ? "restart" : "reload"} ${label})`,
        { [name]: live.setting },
        { [name]: value },
      ),
    );
  }
  return out;
}

export function postgresRunning(want: RunningWant, opts: ResourceOptions = {}): Resource<RunningWant, RunningState> {
  checkCluster(want);
  for (const n of Object.keys(want.settings))
    if (!SETTING.test(n)) throw badInput(`postgres settings: invalid name ${JSON.stringify(n)}`);
  const fact = runningFact(want);
  const ctl = (ctx: HostCtx, action: string) =>
    run(
      ctx,
      sh`pg_ctlcluster ${want.version} ${want.name} ${action}`,
      `pg_ctlcluster ${want.version} ${want.name} ${action}`,
    );
  return withFact(fact, {
    id: `pg-running:${want.version}/${want.name}`,
    want,
    ...opts,
    diff: runningDiff,
    async apply(ctx, changes) {
      const keys = new Set(changes.map((c) => c.key));
      if (keys.has("start")) await ctl(ctx, "start");
      else if (keys.has("restart")) await ctl(ctx, "restart");
      else if (keys.has("reload")) {
        await ctl(ctx, "reload");
        // A reload is signalled, not awaited: wait (5 s at most) until the server shows the new values.
        for (let i = 0; i < 50; i++) {
          ctx.facts.invalidate([fact.key]);
          if (runningDiff(want, await ctx.facts.get(fact)).length === 0) break;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      ctx.facts.invalidate([fact.key]);
    },
    ok: () => `running with ${Object.keys(want.settings).length} settings as wanted`,
  });
}
