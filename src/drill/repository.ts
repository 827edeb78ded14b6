// What the drill reads from pgBackRest on the database host: a repository's
// archive listing (the same `repo-ls` as `lab backup`), the stanza's info, and
// the comparison that proves a drill left the production repositories alone:
// new files may only be production's own WAL on its own timeline.
import type { PgbrInfoStanza } from "../backup/pg-status.ts";
import type { PgPolicy, PgRepo } from "../backup/policy.ts";
import { parseSegment } from "../backup/wal.ts";
import { sh } from "../sh.ts";
import { DrillError, step, type DrillEnv } from "./env.ts";

export type Listing = Record<string, { type: string }>;

const pgbr = (p: PgPolicy, args: string) =>
  `${sh`runuser -u postgres -- pgbackrest ${`--stanza=${p.stanza}`}`} ${args}`;

export async function archiveListing(env: DrillEnv, p: PgPolicy, repo: PgRepo): Promise<Listing> {
  const out = await step(
    env,
    p.host,
    `listing the archive of ${repo.name} (repo${repo.index})`,
    pgbr(p, sh`${`--repo=${repo.index}`} repo-ls --recurse --output=json ${`archive/${p.stanza}`}`),
    120_000,
  );
  try {
    return JSON.parse(out) as Listing;
  } catch {
    throw new DrillError(`repo-ls of ${repo.name} printed no JSON: ${out.slice(0, 200)}`);
  }
}

export async function stanzaInfo(env: DrillEnv, p: PgPolicy): Promise<PgbrInfoStanza> {
  const out = await step(env, p.host, "pgbackrest info", pgbr(p, "--output=json info"), 120_000);
  const info = (JSON.parse(out.replace(/"system-id":(\d+)/g, '"system-id":"$1"')) as PgbrInfoStanza[]).find(
    (s) => s.name === p.stanza,
  );
  if (!info) throw new DrillError(`pgbackrest info has no stanza ${p.stanza} on ${p.host}`);
  return info;
}

/** The newest good backup in a repository (what a restore without --set uses). */
export function newestBackup(info: PgbrInfoStanza, repo: PgRepo) {
  const backups = (info.backup ?? [])
    .filter((b) => b.database["repo-key"] === repo.index && !b.error)
    .sort((a, b) => a.timestamp.stop - b.timestamp.stop);
  return { newest: backups[backups.length - 1], oldest: backups[0] };
}

/**
 * What a drill added to a repository: every file new since `before` that is not
 * production's own WAL (a segment or .backup file on production's timeline in an
 * archive directory that already existed). A history file or WAL of another
 * timeline is exactly what a copy that archives would leave.
 */
export function foreignFiles(before: Listing, after: Listing, prodTimeline: number): string[] {
  const dirs = new Set(Object.keys(before).map((p) => p.split("/")[0]));
  const out: string[] = [];
  for (const [path, e] of Object.entries(after)) {
    if (e.type !== "file" || path in before) continue;
    const base = path.split("/").pop() ?? "";
    const seg = parseSegment(base);
    const own =
      dirs.has(path.split("/")[0]) && seg !== undefined && seg.timeline === prodTimeline && !base.endsWith(".history");
    if (!own) out.push(path);
  }
  return out.sort();
}
