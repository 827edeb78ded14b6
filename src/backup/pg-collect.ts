// What `lab backup` asks a database host, in ONE round trip (the parts in parallel): PostgreSQL's archiver
// state and pending WAL (SQL), `pgbackrest info`, `pgbackrest check` and each
// repository's archive listing. pgBackRest reaches a repository host itself
// (repoN-host), so everything runs on the database host as the postgres user.
import { sh } from "../sh.ts";
import type { ExecResult } from "../transport/types.ts";
import type { ArchiverState, PgObservation, PgbrInfoStanza } from "./pg-status.ts";
import type { PgPolicy } from "./policy.ts";

/** Seconds `pgbackrest check` may wait for its WAL switch to be archived (its own default is 60). */
export const CHECK_ARCHIVE_TIMEOUT_SEC = 15;

const SQL = `select json_build_object(
  'archiver', (select row_to_json(a) from pg_stat_archiver a),
  'oldest_ready_time', (select min(modification) from pg_ls_archive_statusdir() where name like '%.ready'),
  'current_wal', case when pg_is_in_recovery() then null else pg_walfile_name(pg_current_wal_lsn()) end)`.replace(
  /\n\s*/g,
  " ",
);

const MARK = "@@lab-backup";

/** The one shell script; each part's output is framed by markers with its exit code. */
export function pgCollectScript(p: PgPolicy, withCheck: boolean): string {
  const as = (cmd: string) => sh`runuser -u postgres -- sh -c ${cmd}`;
  // The newline before the rc marker: pgBackRest's JSON ends without one.
  const part = (name: string, cmd: string) => `echo ${MARK}:${name}; ${cmd} 2>&1; printf '\\n${MARK}:rc:%s\\n' $?`;
  const pgbr = (args: string) => as(`pgbackrest ${sh`--stanza=${p.stanza}`} ${args}`);
  const parts = [
    part("sql", as(sh`psql -XAtq --cluster ${p.cluster} -d postgres -c ${SQL}`)),
    part("info", pgbr("--output=json info")),
    ...(withCheck ? [part("check", pgbr(`--archive-timeout=${CHECK_ARCHIVE_TIMEOUT_SEC} check`))] : []),
    ...p.repositories.map((r) =>
      part(`ls${r.index}`, pgbr(sh`--repo=${r.index} repo-ls --recurse --output=json ${`archive/${p.stanza}`}`)),
    ),
  ];
  // From / : the postgres user cannot enter the login user's home, and psql would say so in its output.
  // The parts run side by side (each pgBackRest call to a repository host is its own SSH session, and
  // `check` waits for a WAL switch to be archived): the slowest part, not their sum. Output in order.
  return [
    "cd / && d=$(mktemp -d) || exit 3",
    ...parts.map((cmd, i) => `(${cmd}) > "$d/${i}" &`),
    "wait",
    `cat ${parts.map((_, i) => `"$d/${i}"`).join(" ")}; rm -rf "$d"`,
  ].join("\n");
}

export function parseCollected(p: PgPolicy, r: ExecResult): PgObservation {
  const parts = new Map<string, { out: string; code: number }>();
  const re = new RegExp(`^${MARK}:([a-z0-9]+)\\n([\\s\\S]*?)^${MARK}:rc:(\\d+)$`, "gm");
  for (const m of r.stdout.matchAll(re)) parts.set(m[1]!, { out: m[2]!.replace(/\n$/, ""), code: Number(m[3]) });
  const json = <T>(name: string): T | undefined => {
    const x = parts.get(name);
    if (!x || x.code !== 0) return undefined;
    try {
      // pgBackRest prints the cluster's system-id as a 64-bit integer: keep it a string.
      return JSON.parse(x.out.replace(/"system-id":(\d+)/g, '"system-id":"$1"')) as T;
    } catch {
      return undefined;
    }
  };
  const sql = json<{
    archiver: Omit<ArchiverState, "oldest_ready_time" | "current_wal">;
    oldest_ready_time: string | null;
    current_wal: string | null;
  }>("sql");
  const info = json<PgbrInfoStanza[]>("info")?.find((s) => s.name === p.stanza);
  const check = parts.get("check");
  const missing =
    [...parts.values()].length === 0
      ? `no output from ${p.host} (exit ${r.code}): ${r.stderr.trim().split("\n").pop() ?? ""}`
      : undefined;
  const sqlPart = parts.get("sql");
  return {
    info: info && info.status.code !== 1 && info.status.code !== 3 ? info : undefined,
    archiver: sql
      ? { ...sql.archiver, oldest_ready_time: sql.oldest_ready_time, current_wal: sql.current_wal ?? "" }
      : undefined,
    ...(check ? { check: { code: check.code, output: check.out } } : {}),
    listings: Object.fromEntries(
      p.repositories.map((x) => [x.index, json<Record<string, { type: string }>>(`ls${x.index}`)]),
    ),
    ...(missing
      ? { unreachable: missing }
      : sqlPart && sqlPart.code !== 0 && /command not found|No such file/.test(sqlPart.out)
        ? { unreachable: `PostgreSQL tools missing on ${p.host}: ${sqlPart.out.trim()}` }
        : {}),
  };
}
