// The truth about one PostgreSQL target, from what pgBackRest and PostgreSQL say
// (collected by `lab backup` over SSH): per repository the newest good backup
// against the schedule, the archive against PostgreSQL's, missing WAL; for the
// cluster the WAL archive lag against the RPO. Pure: data in, findings out.
import { formatDuration } from "./duration.ts";
import type { PgPolicy, PgRepo } from "./policy.ts";
import { archivedSegments, missingSegments, parseSegment } from "./wal.ts";

/** One stanza of `pgbackrest info --output=json` (the fields lab reads). */
export interface PgbrInfoStanza {
  name: string;
  status: { code: number; message: string };
  repo?: { key: number; cipher: string; status: { code: number; message: string } }[];
  archive?: { id: string; min: string | null; max: string | null; database: { "repo-key": number } }[];
  backup?: {
    label: string;
    type: "full" | "diff" | "incr";
    error?: boolean;
    timestamp: { start: number; stop: number };
    archive: { start: string | null; stop: string | null };
    info: { size: number; repository: { size: number; delta: number } };
    database: { "repo-key": number };
  }[];
}

/** A row of pg_stat_archiver, plus the oldest WAL segment still waiting to be archived. */
export interface ArchiverState {
  archived_count: number;
  last_archived_wal: string | null;
  last_archived_time: string | null;
  failed_count: number;
  last_failed_wal: string | null;
  last_failed_time: string | null;
  /** Modification time (ISO) of the oldest `.ready` file in pg_wal/archive_status: a completed segment not yet archived. */
  oldest_ready_time: string | null;
  /** The segment PostgreSQL is writing now (pg_walfile_name(pg_current_wal_lsn())). */
  current_wal: string;
}

export interface PgObservation {
  info: PgbrInfoStanza | undefined;
  archiver: ArchiverState | undefined;
  /** `pgbackrest check`: exit code and its last lines. */
  check?: { code: number; output: string };
  /** Archive listing per repository index (repo-ls JSON); absent: not listed. */
  listings: Record<number, Record<string, { type: string }> | undefined>;
  /** What could not be collected at all (host unreachable, command missing): the cause. */
  unreachable?: string;
}

export type Verdict = "ok" | "breach";

export interface RepoStatus {
  readonly repo: string;
  readonly index: number;
  readonly host?: string;
  readonly verdict: Verdict;
  readonly lastBackup?: { label: string; type: string; stop: number; sizeBytes: number; repoBytes: number };
  readonly ageSec?: number;
  readonly maxAgeSec: number;
  readonly archiveMax?: string;
  readonly missingWal: readonly string[];
  readonly problems: readonly string[];
}

export interface PgStatus {
  readonly target: string;
  readonly kind: "postgres";
  readonly host: string;
  readonly verdict: Verdict;
  readonly walLagSec?: number;
  readonly rpoSec: number;
  readonly archiveFailing: boolean;
  readonly repos: readonly RepoStatus[];
  /** Every breach in one line each: target, cause, what to do. */
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}

/** Slack on top of the schedule's longest gap before a backup counts as overdue (a backup takes time). */
export const OVERDUE_GRACE_SEC = 3600;

const seconds = (iso: string | null | undefined) => (iso ? Date.parse(iso) / 1000 : undefined);

export function pgStatus(policy: PgPolicy, obs: PgObservation, now: Date, scheduleGapSec: number): PgStatus {
  const t = policy.name;
  const nowSec = now.getTime() / 1000;
  const problems: string[] = [];
  const warnings: string[] = policy.acceptWalLoss
    ? [
        `${t}: accept_wal_loss is set: pgBackRest may have DROPPED WAL (archive-push-queue-max); point-in-time recovery past such a gap is impossible`,
      ]
    : [];
  if (obs.unreachable) {
    const repos = policy.repositories.map((r) => repoUnknown(r, scheduleGapSec, obs.unreachable!));
    return {
      target: t,
      kind: "postgres",
      host: policy.host,
      verdict: "breach",
      rpoSec: policy.rpoSec,
      archiveFailing: false,
      repos,
      problems: [`${t}: cannot check: ${obs.unreachable}`],
      warnings,
    };
  }

  // WAL archive lag: how long the oldest completed, not yet archived segment has waited.
  const a = obs.archiver;
  let walLagSec: number | undefined;
  let archiveFailing = false;
  if (!a)
    problems.push(
      `${t}: pg_stat_archiver could not be read on ${policy.host}: is the cluster ${policy.cluster} running?`,
    );
  else {
    const ready = seconds(a.oldest_ready_time);
    walLagSec = ready === undefined ? 0 : Math.max(0, nowSec - ready);
    const failed = seconds(a.last_failed_time);
    const archived = seconds(a.last_archived_time);
    archiveFailing = failed !== undefined && (archived === undefined || failed > archived);
    if (archiveFailing) {
      problems.push(
        `${t}: WAL archiving is FAILING on ${policy.host} (last failure ${a.last_failed_wal ?? "?"} at ${a.last_failed_time}, ${a.failed_count} failures since reset): check \`pgbackrest check\` and the repository hosts`,
      );
    }
    if (walLagSec > policy.rpoSec) {
      problems.push(
        `${t}: WAL archive lag ${formatDuration(walLagSec)} exceeds the rpo ${formatDuration(policy.rpoSec)} (segments are waiting in pg_wal/archive_status): data written since would be lost`,
      );
    }
  }
  if (obs.check && obs.check.code !== 0)
    problems.push(`${t}: pgbackrest check failed (exit ${obs.check.code}): ${lastLine(obs.check.output)}`);
  if (!obs.info)
    problems.push(`${t}: pgbackrest info returned no stanza "${policy.stanza}": run lab apply (stanza-create)`);

  const newest = [a?.last_archived_wal, ...(obs.info?.archive ?? []).map((x) => x.max)]
    .map((n) => (n ? parseSegment(n) : undefined))
    .filter((x) => x !== undefined)
    .sort((x, y) => y.seq - x.seq)[0];
  const repos = policy.repositories.map((r): RepoStatus => {
    const info = obs.info;
    // Without the stanza there is nothing per repository to judge beyond the problem above.
    if (!info) return { ...repoUnknown(r, scheduleGapSec, "no stanza"), problems: [] };
    const rp: string[] = [];
    const state = info.repo?.find((x) => x.key === r.index);
    if (!state) rp.push(`${t}: repository ${r.name} (repo${r.index}) is not configured in pgBackRest`);
    else if (state && state.status.code !== 0 && state.status.code !== 2)
      rp.push(`${t}: repository ${r.name} (repo${r.index}) reports "${state.status.message}"`);
    if (r.encryptionKey && state && state.cipher === "none")
      rp.push(`${t}: repository ${r.name} should be encrypted but pgBackRest reports cipher none`);
    const backups = (info.backup ?? [])
      .filter((b) => b.database["repo-key"] === r.index && !b.error)
      .sort((x, y) => x.timestamp.stop - y.timestamp.stop);
    const last = backups[backups.length - 1];
    const maxAgeSec = scheduleGapSec + OVERDUE_GRACE_SEC;
    const ageSec = last ? Math.max(0, nowSec - last.timestamp.stop) : undefined;
    if (!last) rp.push(`${t}: repository ${r.name} has no valid backup: run \`lab backup --run\``);
    else if (ageSec !== undefined && ageSec > maxAgeSec)
      rp.push(
        `${t}: the newest backup in ${r.name} (${last.label}) is ${formatDuration(ageSec)} old; its schedule allows ${formatDuration(maxAgeSec)}: run \`lab backup --run\` and check the backup timer on ${policy.host}`,
      );

    const archiveMax = info.archive?.find((x) => x.database["repo-key"] === r.index)?.max ?? undefined;
    // Every segment PostgreSQL reports archived, or another repository holds, must be in every repository.
    const repoMax = archiveMax ? parseSegment(archiveMax) : undefined;
    if (newest && (!repoMax || repoMax.seq < newest.seq)) {
      rp.push(
        `${t}: repository ${r.name} is behind: its newest WAL is ${archiveMax ?? "none"}, while ${newest.name} is archived`,
      );
    }
    // Missing WAL between the oldest backup's start and the archive's end makes restores stop early.
    let missingWal: string[] = [];
    const listing = obs.listings[r.index];
    const first = backups[0]?.archive.start;
    if (listing && first && archiveMax) {
      missingWal = missingSegments(archivedSegments(listing), first, archiveMax);
      if (missingWal.length)
        rp.push(
          `${t}: repository ${r.name} is missing WAL ${summarize(missingWal)}: restores stop before them; take a new full backup (\`lab backup --run\`) and find what deleted them`,
        );
    }
    return {
      repo: r.name,
      index: r.index,
      ...(r.host ? { host: r.host } : {}),
      verdict: rp.length ? "breach" : "ok",
      ...(last
        ? {
            lastBackup: {
              label: last.label,
              type: last.type,
              stop: last.timestamp.stop,
              sizeBytes: last.info.size,
              repoBytes: last.info.repository.size,
            },
          }
        : {}),
      ...(ageSec !== undefined ? { ageSec } : {}),
      maxAgeSec,
      ...(archiveMax ? { archiveMax } : {}),
      missingWal,
      problems: rp,
    };
  });
  const all = [...problems, ...repos.flatMap((r) => r.problems)];
  return {
    target: t,
    kind: "postgres",
    host: policy.host,
    verdict: all.length ? "breach" : "ok",
    ...(walLagSec !== undefined ? { walLagSec } : {}),
    rpoSec: policy.rpoSec,
    archiveFailing,
    repos,
    problems: all,
    warnings,
  };
}

function repoUnknown(r: PgRepo, gap: number, cause: string): RepoStatus {
  return {
    repo: r.name,
    index: r.index,
    ...(r.host ? { host: r.host } : {}),
    verdict: "breach",
    maxAgeSec: gap + OVERDUE_GRACE_SEC,
    missingWal: [],
    problems: [cause],
  };
}

const lastLine = (text: string) =>
  text
    .trim()
    .split("\n")
    .filter((l) => !/^\s*HINT:/.test(l))
    .pop()
    ?.trim() ?? "";
const summarize = (xs: readonly string[]) =>
  xs.length <= 3 ? xs.join(", ") : `${xs[0]} .. ${xs[xs.length - 1]} (${xs.length} segments)`;
