// The marker: a named restore point with its LSN and time, and per table a row
// count and an order-independent checksum (the sum, as numeric, of a 64-bit hash
// of each row's text). The tables are locked in SHARE mode around it, so writers
// wait a moment and no write commits between the checksums and the restore
// point: a restore to that name must show exactly these numbers.
import { DrillError, ident, lit, step, type DrillEnv } from "./env.ts";
import { psqlProd } from "./pg.ts";

export interface TableSum {
  readonly rows: number;
  /** Sum of the rows' 64-bit hashes, as a decimal string (exact). */
  readonly sum: string;
}

export interface Marker {
  readonly name: string;
  readonly lsn: string;
  readonly time: string;
  readonly database: string;
  readonly tables: Readonly<Record<string, TableSum>>;
}

const USER_TABLES = `select coalesce(json_agg(format('%s.%s', n.nspname, c.relname) order by n.nspname, c.relname), '[]')
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema', 'lab_drill') and n.nspname !~ '^pg_(toast|temp)'`;

/** json_build_object of [rows, sum] per table (the same expression on production and on the copy). */
export function checksumSql(tables: readonly string[]): string {
  const parts = tables.map(
    (t) =>
      `${lit(t)}, (select json_build_array(count(*), coalesce(sum(('x' || left(md5(r::text), 16))::bit(64)::bigint::numeric), 0)::text) from ${ident(t)} r)`,
  );
  return `json_build_object(${parts.join(", ")})`;
}

export const parseSums = (json: string): Record<string, TableSum> =>
  Object.fromEntries(
    Object.entries(JSON.parse(json) as Record<string, [number, string]>).map(([t, [rows, sum]]) => [t, { rows, sum }]),
  );

export async function listUserTables(
  env: DrillEnv,
  host: string,
  cluster: string,
  database: string,
): Promise<string[]> {
  return JSON.parse(
    await step(
      env,
      host,
      `listing the tables of ${database}`,
      psqlProd(cluster, database, USER_TABLES.replace(/\n/g, " ")),
    ),
  ) as string[];
}

export async function takeMarker(
  env: DrillEnv,
  host: string,
  cluster: string,
  database: string,
  tables: readonly string[],
  name: string,
): Promise<Marker> {
  const sql = [
    "begin",
    "set local lock_timeout = '60s'",
    ...(tables.length ? [`lock table ${tables.map(ident).join(", ")} in share mode`] : []),
    `select json_build_object('lsn', pg_create_restore_point(${lit(name)})::text, 'time', clock_timestamp(), 'tables', ${tables.length ? checksumSql(tables) : "'{}'::json"})`,
    "commit",
  ].join(";\n");
  const out = (await step(env, host, `the marker (restore point ${name})`, psqlProd(cluster, database, sql))).trim();
  let v: { lsn: string; time: string; tables: Record<string, [number, string]> };
  try {
    v = JSON.parse(out) as typeof v;
  } catch {
    throw new DrillError(`the marker on ${host} printed no JSON: ${out.slice(0, 200)}`);
  }
  return {
    name,
    lsn: v.lsn,
    time: new Date(v.time).toISOString(),
    database,
    tables: parseSums(JSON.stringify(v.tables)),
  };
}

/** Differences between the marker's sums and a copy's, one line per table. */
export function compareSums(
  want: Readonly<Record<string, TableSum>>,
  got: Readonly<Record<string, TableSum>>,
): string[] {
  const out: string[] = [];
  for (const [t, w] of Object.entries(want)) {
    const g = got[t];
    if (!g) out.push(`${t}: missing in the copy`);
    else if (g.rows !== w.rows || g.sum !== w.sum)
      out.push(
        `${t}: ${g.rows} rows (checksum ${g.sum}) in the copy, ${w.rows} rows (checksum ${w.sum}) at the marker`,
      );
  }
  return out;
}
