// The heartbeat: while the source stays live, one row per second is committed
// into lab_drill.heartbeat (a lab-owned schema in the `postgres` database) by a
// psql `\watch 1` on the database host, in its own process group recorded in a
// marked scratch directory (so cleanup stops it even after a crash). The newest
// heartbeat that survives a latest-point restore is what RPO is measured with.
import { raw, sh } from "../sh.ts";
import { psqlProd, psqlProdBase } from "./pg.ts";
import { makeScratchDir, SCRATCH_PREFIX } from "./scratch.ts";
import { lit, step, waitFor, type DrillEnv } from "./env.ts";

export const HEARTBEAT_DB = "postgres";
/** Heartbeats of older drills are pruned after this long (the table stays small). */
const KEEP_DAYS = 30;

const SETUP = `create schema if not exists lab_drill;
create table if not exists lab_drill.heartbeat (run text not null, n bigint not null, ts timestamptz not null, primary key (run, n));
comment on schema lab_drill is 'lab drill: heartbeats committed during restore drills (lab-owned)';
delete from lab_drill.heartbeat where ts < now() - interval '${KEEP_DAYS} days'`;

export const heartbeatInsert = (run: string) =>
  `insert into lab_drill.heartbeat (run, n, ts) select ${lit(run)}, coalesce(max(n), 0) + 1, clock_timestamp() from lab_drill.heartbeat where run = ${lit(run)};`;

export async function startHeartbeat(env: DrillEnv, host: string, cluster: string, run: string): Promise<void> {
  const dir = `${SCRATCH_PREFIX}/${run}-heartbeat`;
  await step(env, host, "creating lab_drill.heartbeat", psqlProd(cluster, HEARTBEAT_DB, SETUP));
  const sqlFile = `${dir}/heartbeat.sql`;
  const inner = `echo $$ > heartbeat.pid; exec ${psqlProdBase(cluster, HEARTBEAT_DB)} -f heartbeat.sql`;
  await step(
    env,
    host,
    "starting the heartbeat",
    [
      makeScratchDir(dir, run, "heartbeat"),
      sh`printf '%s\n' ${heartbeatInsert(run)} '\\watch 1' > ${sqlFile}`,
      sh`chown postgres:postgres ${sqlFile}`,
      sh`cd ${dir}`,
      // Braced: only the heartbeat goes to the background, with no fd of the SSH session (which would then never end).
      sh`{ setsid sh -c ${inner} > heartbeat.log 2>&1 < /dev/null ${raw("& }")}`,
    ].join(" && "),
  );
  // Running: the first row is committed.
  await waitFor(env, `the heartbeat on ${host}`, 30_000, async () => {
    const n = (
      await step(
        env,
        host,
        "reading the heartbeat",
        psqlProd(cluster, HEARTBEAT_DB, `select count(*) from lab_drill.heartbeat where run = ${lit(run)}`),
      )
    ).trim();
    return Number(n) > 0 ? true : undefined;
  });
}

/** Stop the heartbeat's process group (its directory is removed by cleanup). */
export async function stopHeartbeat(env: DrillEnv, host: string, run: string): Promise<void> {
  const pid = `${SCRATCH_PREFIX}/${run}-heartbeat/heartbeat.pid`;
  await env.exec(host, `[ -f ${sh`${pid}`} ] && kill -TERM "-$(cat ${sh`${pid}`})" 2>/dev/null; true`);
}
