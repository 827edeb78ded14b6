// The checks of a restored copy: exact checksums at the marker, pg_amcheck clean
// (heap and B-tree indexes of every database), the drill's smoke queries, and for
// the latest-point copy the newest heartbeat that survived (RPO).
import type { SmokeQuery } from "./model.ts";
import { lit, type DrillEnv } from "./env.ts";
import { HEARTBEAT_DB } from "./heartbeat.ts";
import { checksumSql, compareSums, parseSums, type Marker } from "./marker.ts";
import { psqlCopy } from "./pg.ts";
import { sh } from "../sh.ts";
import type { ScratchCluster } from "./scratch.ts";

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

const lastLines = (text: string, n = 4) => text.trim().split("\n").filter(Boolean).slice(-n).join(" | ");

export async function checkMarker(env: DrillEnv, c: ScratchCluster, marker: Marker): Promise<CheckResult> {
  const tables = Object.keys(marker.tables);
  if (!tables.length)
    return { name: "checksums at the marker", ok: true, detail: `no tables in ${marker.database} to compare` };
  const r = await env.exec(c.host, psqlCopy(c, marker.database, `select ${checksumSql(tables)}`));
  if (r.code !== 0)
    return {
      name: "checksums at the marker",
      ok: false,
      detail: `cannot read the tables in the copy: ${lastLines(r.stderr || r.stdout)}`,
    };
  const diff = compareSums(marker.tables, parseSums(r.stdout.trim()));
  const rows = Object.values(marker.tables).reduce((n, t) => n + t.rows, 0);
  return {
    name: "checksums at the marker",
    ok: diff.length === 0,
    detail: diff.length ? diff.join("; ") : `${tables.length} table(s), ${rows} rows: exact match`,
  };
}

export async function checkAmcheck(env: DrillEnv, c: ScratchCluster): Promise<CheckResult> {
  // --install-missing creates the amcheck extension in the copy only.
  // From /: runuser keeps the login directory, which postgres cannot enter (pg_amcheck would say so).
  const r = await env.exec(
    c.host,
    "cd / && " +
      sh`runuser -u postgres -- ${`${c.bin}/pg_amcheck`} -h ${c.socketDir} -p ${c.port} --all --install-missing --heapallindexed`,
    { timeoutMs: 3_600_000 },
  );
  const out = `${r.stdout}${r.stderr}`.trim();
  return {
    name: "pg_amcheck",
    ok: r.code === 0 && out === "",
    detail: r.code === 0 && out === "" ? "clean" : `exit ${r.code}: ${lastLines(out) || "no output"}`,
  };
}

export async function checkSmoke(
  env: DrillEnv,
  c: ScratchCluster,
  q: SmokeQuery,
  database: string,
): Promise<CheckResult> {
  const r = await env.exec(c.host, psqlCopy(c, q.database ?? database, q.sql));
  const out = r.stdout.replace(/\n$/, "");
  if (r.code !== 0)
    return { name: `smoke: ${q.name}`, ok: false, detail: `failed: ${lastLines(r.stderr || r.stdout)}` };
  if (q.expect !== undefined)
    return {
      name: `smoke: ${q.name}`,
      ok: out === q.expect,
      detail:
        out === q.expect
          ? `returned ${JSON.stringify(out)}`
          : `returned ${JSON.stringify(out)}, expected ${JSON.stringify(q.expect)}`,
    };
  return { name: `smoke: ${q.name}`, ok: out !== "", detail: out !== "" ? "returned a row" : "returned no row" };
}

/** Commit time (epoch seconds) of the newest heartbeat of this run at or before the declared failure, in the copy. */
export async function newestHeartbeat(
  env: DrillEnv,
  c: ScratchCluster,
  run: string,
  failureAtSec: number,
): Promise<number | undefined> {
  const r = await env.exec(
    c.host,
    psqlCopy(
      c,
      HEARTBEAT_DB,
      `select extract(epoch from max(ts)) from lab_drill.heartbeat where run = ${lit(run)} and ts <= to_timestamp(${failureAtSec})`,
    ),
  );
  const v = r.code === 0 ? Number(r.stdout.trim()) : NaN;
  return r.stdout.trim() && Number.isFinite(v) ? v : undefined;
}
