// pgbackrestStanza: the stanza exists on every repository (stanza-create) and
// `pgbackrest check` has passed for the configuration in force. read() never
// runs `check` itself (it forces a WAL switch): it reads `info --output=json`,
// pg_stat_archiver, and the marker a passing check left for this configuration.
import { valueChange } from "../attrs-diff.ts";
import type { Change, Fact, HostCtx, Resource } from "../../engine/types.ts";
import { ExitCode, LabError, badInput } from "../../errors.ts";
import { sh } from "../../sh.ts";
import type { ResourceOptions } from "../file.ts";
import { run } from "../run.ts";
import { withFact } from "../with-fact.ts";
import { psql } from "../postgres/settings.ts";

export interface StanzaWant {
  stanza: string;
  /** The OS user pgBackRest runs as on this host (postgres on a database host). */
  user: string;
  /** Repository indexes the stanza must exist on, e.g. [1, 2]. */
  repos: number[];
  /** The cluster's port (for pg_stat_archiver). */
  port: number;
  /** Identifies the configuration a passing check is recorded for (no secret in it: it is stored on the host). */
  checkKey: string;
}

export interface RepoStatus {
  code: number;
  message: string;
}

export interface StanzaState {
  /** pgBackRest's status per repository key (absent: not in its answer). */
  repos: Record<number, RepoStatus>;
  /** The checkKey of the last passing check (absent: none). */
  checked?: string;
  /** pg_stat_archiver: the archiver's last attempt failed (a failure newer than the last success). */
  archiverFailing: boolean;
  /** Why info gave nothing (pgBackRest missing, unreadable config, ...). */
  infoError?: string;
}

export const markerPath = (stanza: string): string => `/var/lib/lab/pgbackrest-check-${stanza}`;
const STANZA = /^[A-Za-z0-9_-]+$/;
// pgBackRest's info status codes: 1 missing stanza path, 3 missing stanza data.
const MISSING = new Set([1, 3]);

export function stanzaFact(w: StanzaWant): Fact<StanzaState> {
  return {
    key: `pgbackrest-stanza:${w.stanza}`,
    command:
      sh`runuser -u ${w.user} -- pgbackrest --stanza=${w.stanza} --output=json info 2>&1
echo; echo @@marker; cat ${markerPath(w.stanza)} 2>/dev/null
echo; echo @@archiver; ` +
      psql(
        w.port,
        "select failed_count > 0 and coalesce(last_failed_time > coalesce(last_archived_time, 'epoch'), false) from pg_stat_archiver",
      ),
    parse: parseStanza(w.stanza),
  };
}

export const parseStanza =
  (stanza: string) =>
  (out: string): StanzaState => {
    const [info = "", rest = ""] = out.split("\n@@marker\n");
    const [marker = "", archiver = ""] = rest.split("\n@@archiver\n");
    const checked = marker.trim() || undefined;
    const archiverFailing = archiver.trim() === "t";
    let parsed: unknown;
    try {
      parsed = JSON.parse(info.trim());
    } catch {
      return {
        repos: {},
        archiverFailing,
        ...(checked ? { checked } : {}),
        infoError: info.trim().split("\n").slice(-3).join(" ").slice(0, 300) || "no answer from pgbackrest info",
      };
    }
    const entry = (Array.isArray(parsed) ? parsed : []).find((s: { name?: string }) => s?.name === stanza) as
      { repo?: { key: number; status: { code: number; message: string } }[] } | undefined;
    const repos: Record<number, RepoStatus> = {};
    for (const r of entry?.repo ?? []) repos[r.key] = { code: r.status.code, message: r.status.message };
    return { repos, archiverFailing, ...(checked ? { checked } : {}) };
  };

export function stanzaDiff(want: StanzaWant, have: StanzaState): Change[] {
  const out: Change[] = [];
  const missing = want.repos.filter(
    (k) => !have.repos[k] || MISSING.has(have.repos[k].code) || have.repos[k].code === 99,
  );
  if (missing.length) {
    const why = missing
      .map((k) => `repo${k}: ${have.repos[k]?.message.split("\n")[0] ?? have.infoError ?? "not configured yet"}`)
      .join("; ");
    out.push(
      valueChange("create", `stanza-create ${want.stanza} (${why})`, null, { stanza: want.stanza, repos: missing }),
    );
  }
  if (out.length || have.checked !== want.checkKey)
    out.push({
      key: "check",
      summary: `pgbackrest check ${want.stanza} (${have.checked ? "the configuration changed since the last passing check" : "never checked"})`,
    });
  else if (have.archiverFailing)
    out.push({
      key: "check",
      summary: `pgbackrest check ${want.stanza} (PostgreSQL's archiver reports that its last attempt failed)`,
    });
  return out;
}

export function pgbackrestStanza(want: StanzaWant, opts: ResourceOptions = {}): Resource<StanzaWant, StanzaState> {
  if (!STANZA.test(want.stanza))
    throw badInput(
      `pgbackrest: invalid stanza name ${JSON.stringify(want.stanza)}`,
      {},
      "use letters, digits, _ and -",
    );
  if (!/^[A-Za-z0-9_.:-]+$/.test(want.checkKey))
    throw badInput("pgbackrest stanza: checkKey must be a plain token (e.g. a hash)");
  const fact = stanzaFact(want);
  const as = (cmd: string) => sh`runuser -u ${want.user} -- pgbackrest --stanza=${want.stanza} ${cmd}`;
  return withFact(fact, {
    id: `pgbackrest-stanza:${want.stanza}`,
    want,
    ...opts,
    diff: stanzaDiff,
    async apply(ctx: HostCtx, changes) {
      if (changes.some((c) => c.key === "create"))
        await run(ctx, as("stanza-create"), `pgbackrest stanza-create ${want.stanza}`);
      // check archives a fresh WAL segment to EVERY repository and fails when one does not get it.
      try {
        await run(ctx, as("check"), `pgbackrest check ${want.stanza}`);
      } catch (e) {
        throw await withArchiverState(ctx, want, e);
      }
      await waitArchiverCaughtUp(ctx, want);
      await run(
        ctx,
        sh`mkdir -p /var/lib/lab && printf '%s\\n' ${want.checkKey} > ${markerPath(want.stanza)}`,
        "record the passing check",
      );
      ctx.facts.invalidate([fact.key]);
    },
    ok: (have) =>
      `exists on ${want.repos.map((k) => `repo${k}`).join(" and ")}; check passed for this configuration${have.archiverFailing ? "" : ", archiver healthy"}`,
  });
}

/** pgBackRest's check says only that a segment did not arrive: add why, from PostgreSQL's archiver and the async push's error files. */
async function withArchiverState(ctx: HostCtx, want: StanzaWant, e: unknown): Promise<unknown> {
  if (!(e instanceof LabError)) return e;
  const q = psql(
    want.port,
    "select coalesce(last_failed_wal, '-') || ' at ' || coalesce(last_failed_time::text, '-') || ' (' || failed_count || ' failures); last archived ' || coalesce(last_archived_wal, '-') from pg_stat_archiver",
  );
  const spool = `/var/spool/pgbackrest/archive/${want.stanza}/out`;
  const r = await ctx.transport.exec(
    `${q}; echo @@; ` +
      sh`for f in ${spool}/*.error; do [ -f "$f" ] && tail -n +2 "$f" | head -c 400 && echo; done 2>/dev/null | head -n 3`,
  );
  const [archiver = "", pushErrors = ""] = r.stdout.split("@@\n");
  const detail = [
    archiver.trim() && `PostgreSQL's archiver: last failed ${archiver.trim()}`,
    pushErrors.trim() && `async archive-push: ${pushErrors.trim().replace(/\s*\n\s*/g, " | ")}`,
  ].filter(Boolean);
  return new LabError(
    [e.message, ...detail].join("\n    "),
    e.code,
    e.where,
    "fix what stops WAL from reaching the repository (space, permissions, the backup host or the SSH between the hosts), then apply again: WAL waits in pg_wal meanwhile",
  );
}

/** pg_stat_archiver is updated when archive_command returns, which may be just after check saw the segment. */
async function waitArchiverCaughtUp(ctx: HostCtx, want: StanzaWant): Promise<void> {
  const q = psql(
    want.port,
    "select failed_count > 0 and coalesce(last_failed_time > coalesce(last_archived_time, 'epoch'), false) from pg_stat_archiver",
  );
  for (let i = 0; i < 100; i++) {
    const r = await run(ctx, q, "read pg_stat_archiver");
    if (r.stdout.trim() !== "t") return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new LabError(
    `stanza ${want.stanza}: pgbackrest check passed but PostgreSQL's archiver still reports its last attempt failed`,
    ExitCode.failed,
    { host: ctx.host.name },
    "look at the PostgreSQL log and /var/log/pgbackrest on this host",
  );
}
