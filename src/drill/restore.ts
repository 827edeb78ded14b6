// One restore of a drill: pgBackRest into a scratch cluster (its own data dir,
// socket dir and port), started, waited for until it accepts connections and is
// out of recovery. The settings real restores get wrong are set explicitly:
// --archive-mode=off (the copy never pushes WAL into production's repositories),
// --target-timeline=current, --target-action=promote, a distinct --pg1-path, and
// a restore_command pinned to the one repository (archive-get would otherwise
// fall back to another repository and hide a gap) without async spooling (the
// spool directory is production's).
import type { PgPolicy, PgRepo } from "../backup/policy.ts";
import { raw, sh } from "../sh.ts";
import { step, waitFor, DrillError, type DrillEnv } from "./env.ts";
import { psqlCopy } from "./pg.ts";
import { copyConfig, makeScratchDir, type ScratchCluster } from "./scratch.ts";

export type RestoreTo = { to: "marker"; name: string } | { to: "latest" };

export interface RestoreTimings {
  /** pgbackrest restore (the copy of the files). */
  readonly copySec: number;
  readonly bytes: number;
  /** pg_ctl start until the copy accepts connections. */
  readonly startSec: number;
  /** From accepting connections until out of recovery (pg_is_in_recovery() false). */
  readonly replaySec: number;
}

const secondsSince = (t0: number) => (performance.now() - t0) / 1000;

/** The pgbackrest restore command line (pure: tests read it). */
export function restoreCommand(p: PgPolicy, repo: PgRepo, c: ScratchCluster, to: RestoreTo): string {
  const common = [`--stanza=${p.stanza}`, `--repo=${repo.index}`, `--pg1-path=${c.dataDir}`];
  const restoreCmd = `pgbackrest ${common.join(" ")} --archive-async=n archive-get %f "%p"`;
  const target =
    to.to === "marker" ? ["--type=name", `--target=${to.name}`, "--target-action=promote"] : ["--type=default"];
  return sh`runuser -u postgres -- pgbackrest ${common} --archive-mode=off --target-timeline=current ${target} ${`--recovery-option=restore_command=${restoreCmd}`} --log-level-console=warn restore`;
}

/**
 * Restore, start, wait. The restore runs in its own process group recorded in
 * restore.pid, so an interrupted drill's cleanup stops it.
 */
export async function restoreCopy(
  env: DrillEnv,
  p: PgPolicy,
  repo: PgRepo,
  c: ScratchCluster,
  to: RestoreTo,
  run: string,
  waitSec: number,
): Promise<RestoreTimings> {
  await step(
    env,
    c.host,
    `preparing ${c.dir}`,
    makeScratchDir(c.dir, run, `${p.name} ${to.to} from ${repo.name}`, ["data", "run"]),
  );
  const t0 = performance.now();
  const inner = `echo $$ > restore.pid; exec ${restoreCommand(p, repo, c, to)}`;
  const out = await step(
    env,
    c.host,
    `pgbackrest restore from ${repo.name} (repo${repo.index})`,
    `${sh`cd ${c.dir}`} && ${sh`setsid -w sh -c ${inner}`} && rm -f restore.pid && ${sh`du -sb ${c.dataDir}`}`,
    waitSec * 1000,
  );
  const copySec = secondsSince(t0);
  const bytes = Number(/^(\d+)/.exec(out.trim().split("\n").pop() ?? "")?.[1] ?? 0);

  const t1 = performance.now();
  await step(env, c.host, "configuring the copy", copyConfig(c));
  await step(
    env,
    c.host,
    `starting the copy on port ${c.port}`,
    sh`runuser -u postgres -- ${`${c.bin}/pg_ctl`} -D ${c.dataDir} -l ${`${c.dir}/postgres.log`} -w -t ${waitSec} start ${raw(">/dev/null")}`,
    (waitSec + 30) * 1000,
  ).catch(async (e: unknown) => {
    const log = await env.exec(
      c.host,
      `{ grep -E 'FATAL|PANIC' ${sh`${`${c.dir}/postgres.log`}`} || tail -n 5 ${sh`${`${c.dir}/postgres.log`}`}; } | tail -n 3`,
    );
    throw new DrillError(`${(e as Error).message}; postgres.log: ${log.stdout.trim().split("\n").join(" | ")}`);
  });
  const startSec = secondsSince(t1);

  const t2 = performance.now();
  await waitFor(env, `the copy leaving recovery on ${c.host}`, waitSec * 1000, async () => {
    const r = await env.exec(c.host, psqlCopy(c, "postgres", "select pg_is_in_recovery()"));
    return r.code === 0 && r.stdout.trim() === "f" ? true : undefined;
  });
  return { copySec, bytes, startSec, replaySec: secondsSince(t2) };
}

/** Where recovery ended: the switch point of the copy's newest timeline (its .history file). */
export async function endOfRecovery(
  env: DrillEnv,
  c: ScratchCluster,
): Promise<{ timeline: number; lsn: string } | undefined> {
  const out = await step(
    env,
    c.host,
    "reading the copy's timeline history",
    `f=$(ls ${sh`${c.dataDir}`}/pg_wal/*.history 2>/dev/null | sort | tail -n1); [ -n "$f" ] && basename "$f" && tail -n1 "$f"; true`,
  );
  const [file, line] = out.trim().split("\n");
  const m = /^\s*\d+\s+([0-9A-F]+\/[0-9A-F]+)/i.exec(line ?? "");
  if (!file || !m) return undefined;
  return { timeline: parseInt(file.slice(0, 8), 16), lsn: m[1]!.toUpperCase() };
}
