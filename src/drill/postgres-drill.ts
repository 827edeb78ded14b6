// One PostgreSQL drill, start to end: production's repositories listed, the
// heartbeat started, the marker taken, each planned restore done and checked in
// a scratch copy (removed right after), the heartbeat stopped, the repositories
// listed again and compared. Every scratch resource of the run is removed in
// `finally` (success, failure, interrupt).
import type { PgRepo } from "../backup/policy.ts";
import { archivedSegments, parseSegment } from "../backup/wal.ts";
import { errorMessage } from "../errors.ts";
import { checkAmcheck, checkMarker, checkSmoke, newestHeartbeat, type CheckResult } from "./checks.ts";
import { cleanupScript } from "./cleanup.ts";
import type { PgDrillDef, PlannedRestore } from "./definitions.ts";
import { DrillError, Interrupted, step, waitFor, type DrillEnv } from "./env.ts";
import { startHeartbeat, stopHeartbeat } from "./heartbeat.ts";
import { listUserTables, takeMarker, type Marker } from "./marker.ts";
import { mbPerSec, rpoFindings, rtoFindings, rtoOf, walGap, type RestoreOutcome } from "./measure.ts";
import { psqlProd } from "./pg.ts";
import { archiveListing, foreignFiles, newestBackup, stanzaInfo, type Listing } from "./repository.ts";
import { endOfRecovery, restoreCopy, type RestoreTo } from "./restore.ts";
import { pgBin, scratchCluster } from "./scratch.ts";

export interface PgDrillResult {
  readonly target: string;
  readonly kind: "postgres";
  readonly host: string;
  readonly scratchHost: string;
  readonly ok: boolean;
  readonly rpoSec?: number;
  readonly rpoPolicySec: number;
  readonly rtoSec?: number;
  readonly rtoPolicySec: number;
  readonly marker?: { name: string; lsn: string; time: string; database: string; tables: number; rows: number };
  readonly restores: readonly RestoreOutcome[];
  /** Files the drill added to production's repositories (must be none). */
  readonly foreignFiles: readonly string[];
  readonly problems: readonly string[];
}

/** Longest any single wait of a restore may take (bounded by the RTO, at most 6 h). */
const waitSecFor = (rtoSec: number) => Math.min(Math.max(rtoSec, 600), 6 * 3600);

export async function drillPostgres(env: DrillEnv, def: PgDrillDef, run: string): Promise<PgDrillResult> {
  const p = def.target;
  const prod = (what: string, sql: string, db = "postgres") => step(env, p.host, what, psqlProd(p.cluster, db, sql));
  const repos = [...new Set(def.restores.map((r) => r.repo))];
  const problems: string[] = [];
  const restores: RestoreOutcome[] = [];
  let marker: Marker | undefined;
  let foreign: string[] = [];

  const timeline = async () =>
    Number((await prod("reading production's timeline", "select timeline_id from pg_control_checkpoint()")).trim());
  const tl0 = await timeline();
  const before = new Map<PgRepo, Listing>();
  for (const r of repos) before.set(r, await archiveListing(env, p, r));
  try {
    env.progress(`${p.name}: heartbeat on ${p.host} (one row a second into lab_drill.heartbeat)`);
    await startHeartbeat(env, p.host, p.cluster, run);
    const tables = def.tables ?? (await listUserTables(env, p.host, p.cluster, def.database));
    marker = await takeMarker(env, p.host, p.cluster, def.database, tables, `lab-drill-${run}`);
    env.progress(`${p.name}: marker ${marker.name} at ${marker.lsn} (${tables.length} table(s) checksummed)`);
    const markerSeg = (await prod("switching WAL after the marker", "select pg_walfile_name(pg_switch_wal())")).trim();
    for (const [i, planned] of def.restores.entries()) {
      restores.push(await oneRestore(env, def, run, i + 1, planned, marker, markerSeg, prod));
    }
  } catch (e) {
    if (e instanceof Interrupted) throw e;
    problems.push(`${p.name}: ${errorMessage(e)}`);
  } finally {
    await stopHeartbeat(env, p.host, run).catch(() => undefined);
    for (const host of new Set([p.host, def.scratchHost]))
      await env.exec(host, cleanupScript(pgBin(p.cluster), `${run}-*`)).catch(() => undefined);
  }

  // Production untouched: only its own WAL on its own timeline may be new.
  const tl1 = await timeline();
  if (tl1 !== tl0) problems.push(`${p.name}: production's timeline changed during the drill (${tl0} -> ${tl1})`);
  for (const r of repos) {
    const added = foreignFiles(before.get(r)!, await archiveListing(env, p, r), tl0);
    foreign = [...foreign, ...added.map((f) => `${r.name}: ${f}`)];
    if (added.length)
      problems.push(
        `${p.name}: the drill added ${added.length} file(s) to ${r.name}'s archive that are not production's WAL (${added.slice(0, 3).join(", ")}): a copy archived into the production repository`,
      );
  }

  problems.push(...restores.flatMap((r) => r.problems.map((x) => `${p.name}: ${r.repository} (${r.to}): ${x}`)));
  const latest = restores.find((r) => r.to === "latest" && r.rpoSec !== undefined);
  const rtos = restores.map((r) => r.rtoSec).filter((x) => x !== undefined);
  const rtoSec = rtos.length === restores.length && rtos.length ? Math.max(...rtos) : undefined;
  if (rtoSec !== undefined) problems.push(...rtoFindings(rtoSec, p.rtoSec).map((x) => `${p.name}: ${x}`));
  if (!restores.length && !problems.length) problems.push(`${p.name}: nothing was restored`);
  return {
    target: p.name,
    kind: "postgres",
    host: p.host,
    scratchHost: def.scratchHost,
    ok: problems.length === 0,
    ...(latest?.rpoSec !== undefined ? { rpoSec: latest.rpoSec } : {}),
    rpoPolicySec: p.rpoSec,
    ...(rtoSec !== undefined ? { rtoSec } : {}),
    rtoPolicySec: p.rtoSec,
    ...(marker
      ? {
          marker: {
            name: marker.name,
            lsn: marker.lsn,
            time: marker.time,
            database: marker.database,
            tables: Object.keys(marker.tables).length,
            rows: Object.values(marker.tables).reduce((n, t) => n + t.rows, 0),
          },
        }
      : {}),
    restores,
    foreignFiles: foreign,
    problems,
  };
}

/** Wait until `segment` is in the repository's archive; the listing then. */
async function archived(env: DrillEnv, def: PgDrillDef, repo: PgRepo, segment: string): Promise<Listing> {
  const want = parseSegment(segment)!;
  return waitFor(
    env,
    `WAL segment ${segment} reaching ${repo.name}`,
    180_000,
    async () => {
      const l = await archiveListing(env, def.target, repo);
      return archivedSegments(l).some((s) => s.timeline === want.timeline && s.seq >= want.seq) ? l : undefined;
    },
    1000,
  );
}

async function oneRestore(
  env: DrillEnv,
  def: PgDrillDef,
  run: string,
  n: number,
  planned: PlannedRestore,
  marker: Marker,
  markerSeg: string,
  prod: (what: string, sql: string) => Promise<string>,
): Promise<RestoreOutcome> {
  const p = def.target;
  const { repo } = planned;
  const base = { repository: repo.name, repoIndex: repo.index, to: planned.to };
  const c = scratchCluster(def.scratchHost, run, `${n}-${planned.to}-${repo.name}`, def.scratchPort, p.cluster);
  let failureAtSec: number | undefined;
  let point = `restore point ${marker.name} (${marker.lsn}, ${marker.time})`;
  let listing: Listing;
  if (planned.to === "latest") {
    // The declared failure: now; then the current segment is closed so the archive holds everything up to it.
    const [t, seg] = (
      await prod(
        "declaring the failure (WAL switch)",
        "select extract(epoch from clock_timestamp()) || '|' || pg_walfile_name(pg_switch_wal())",
      )
    )
      .trim()
      .split("|");
    failureAtSec = Number(t);
    point = `end of the archive (failure declared ${new Date(failureAtSec * 1000).toISOString()})`;
    listing = await archived(env, def, repo, seg!);
  } else listing = await archived(env, def, repo, markerSeg);
  const { newest } = newestBackup(await stanzaInfo(env, p), repo);
  if (!newest)
    return {
      ...base,
      point,
      checks: [],
      ok: false,
      problems: [`no backup in ${repo.name} to restore: run \`lab backup --run\``],
    };
  env.progress(
    `${p.name}: restoring ${newest.label} from ${repo.name} (repo${repo.index}) to the ${planned.to === "marker" ? "marker" : "latest point"} on ${c.host}:${c.port}`,
  );
  const to: RestoreTo = planned.to === "marker" ? { to: "marker", name: marker.name } : { to: "latest" };
  try {
    const t = await restoreCopy(env, p, repo, c, to, run, waitSecFor(p.rtoSec));
    await env.beforeChecks?.({ host: c.host, socketDir: c.socketDir, port: c.port, dataDir: c.dataDir });
    const t0 = performance.now();
    const checks: CheckResult[] = [];
    const problems: string[] = [];
    let rpo: { rpoSec?: number; problems: string[] } | undefined;
    let newestHb: number | undefined;
    const end = await endOfRecovery(env, c);
    if (planned.to === "marker") checks.push(await checkMarker(env, c, marker));
    else {
      newestHb = await newestHeartbeat(env, c, run, failureAtSec!);
      rpo = rpoFindings({ failureAtSec: failureAtSec!, newestHeartbeatSec: newestHb, rpoPolicySec: p.rpoSec });
      const gap =
        end && newest.archive.start
          ? walGap({ endLsn: end.lsn, endTimeline: end.timeline, listing, fromSegment: newest.archive.start })
          : undefined;
      checks.push({
        name: "reached the end of the archive",
        ok: !gap && end !== undefined,
        detail: gap ?? (end ? `recovery ended at ${end.lsn}` : "the copy has no new timeline (not promoted?)"),
      });
      problems.push(...rpo.problems);
    }
    checks.push(await checkAmcheck(env, c));
    for (const q of def.smoke) checks.push(await checkSmoke(env, c, q, def.database));
    const checksSec = (performance.now() - t0) / 1000;
    problems.unshift(...checks.filter((x) => !x.ok).map((x) => `${x.name}: ${x.detail}`));
    const phases = {
      copySec: t.copySec,
      bytes: t.bytes,
      mbPerSec: mbPerSec(t.bytes, t.copySec),
      startSec: t.startSec,
      replaySec: t.replaySec,
      checksSec,
    };
    return {
      ...base,
      point,
      backup: newest.label,
      phases,
      rtoSec: rtoOf(phases),
      checks,
      ...(failureAtSec !== undefined ? { failureAt: new Date(failureAtSec * 1000).toISOString() } : {}),
      ...(newestHb !== undefined ? { newestHeartbeatAt: new Date(newestHb * 1000).toISOString() } : {}),
      ...(rpo?.rpoSec !== undefined ? { rpoSec: rpo.rpoSec } : {}),
      ...(end ? { endLsn: end.lsn } : {}),
      ok: problems.length === 0,
      problems,
    };
  } catch (e) {
    if (e instanceof Interrupted || !(e instanceof DrillError)) throw e;
    return { ...base, point, backup: newest.label, checks: [], ok: false, problems: [e.message] };
  } finally {
    await env.exec(c.host, cleanupScript(c.bin, `${run}-${n}-${planned.to}-${repo.name}`)).catch(() => undefined);
  }
}
