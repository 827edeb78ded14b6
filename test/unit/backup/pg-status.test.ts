// The PostgreSQL target's verdict from outputs recorded on a real PostgreSQL 15 +
// pgBackRest 2.45 (test/fixtures/pgbackrest/): healthy, archiving failing, lag
// past the RPO, a repository behind, missing WAL, overdue and missing backups.
import { describe, expect, it } from "vitest";
import { pgStatus, type PgObservation } from "../../../src/backup/pg-status.ts";
import { NOW, archiver, fx, info, listing, pgPolicy } from "./fixtures.ts";

const policy = pgPolicy({
  drillEverySec: 7_776_000,
  repositories: pgPolicy().repositories.map((r) => ({ ...r, path: "/var/lib/pgbackrest" })),
});
const DAY = 86_400;
const healthy = (): PgObservation => ({
  info: info("info-two-repos-ok.json"),
  archiver: archiver("pg-stat-archiver-recovered.json", {
    last_archived_wal: "000000010000000000000007",
    failed_count: 0,
    last_failed_time: null,
    last_failed_wal: null,
  }),
  check: { code: 0, output: "" },
  listings: { 1: listing("repo-ls-archive-repo1.json"), 2: listing("repo-ls-archive-repo2.json") },
});

describe("pgStatus", () => {
  it("a healthy target: both repositories fresh, no lag, nothing missing", () => {
    const s = pgStatus(policy, healthy(), NOW, DAY);
    expect(s.problems).toEqual([]);
    expect(s.verdict).toBe("ok");
    expect(s.walLagSec).toBe(0);
    expect(s.repos.map((r) => [r.repo, r.verdict, r.lastBackup?.label, r.archiveMax, r.missingWal])).toEqual([
      ["local", "ok", "20261201-202210F_20261201-202214D", "000000010000000000000007", []],
      ["offsite", "ok", "20261201-202243F", "000000010000000000000007", []],
    ]);
    expect(s.repos[0]!.ageSec).toBe(NOW.getTime() / 1000 - 1796156538);
  });

  it("archiving failing (offsite repository read-only): failure, lag past the RPO, the offsite repository behind", () => {
    const obs: PgObservation = {
      ...healthy(),
      info: info("info-archiving-failing.json"),
      archiver: archiver("pg-stat-archiver-failing.json", { oldest_ready_time: "2026-12-01T20:23:10Z" }),
      check: { code: 82, output: fx("check-repo2-readonly.txt") },
      listings: {},
    };
    const s = pgStatus(policy, obs, NOW, DAY);
    expect(s.verdict).toBe("breach");
    expect(s.archiveFailing).toBe(true);
    expect(s.walLagSec).toBe(80);
    expect(s.problems).toEqual([
      "db1-main: WAL archiving is FAILING on db1 (last failure 000000010000000000000008 at 2026-12-01T20:23:18.411384+00:00, 3 failures since reset): check `pgbackrest check` and the repository hosts",
      "db1-main: WAL archive lag 1m20s exceeds the rpo 1m (segments are waiting in pg_wal/archive_status): data written since would be lost",
      "db1-main: pgbackrest check failed (exit 82): ERROR: [082]: WAL segment 00000001000000000000000C was not archived before the 60000ms timeout",
      "db1-main: repository offsite is behind: its newest WAL is 000000010000000000000007, while 000000010000000000000009 is archived",
    ]);
    expect(s.repos.map((r) => r.verdict)).toEqual(["ok", "breach"]);
  });

  it("a WAL segment deleted from a repository is named", () => {
    const obs = healthy();
    obs.listings[1] = Object.fromEntries(
      Object.entries(obs.listings[1]!).filter(([k]) => !k.includes("/000000010000000000000004-")),
    );
    const s = pgStatus(policy, obs, NOW, DAY);
    expect(s.repos[0]!.missingWal).toEqual(["000000010000000000000004"]);
    expect(s.problems).toEqual([
      "db1-main: repository local is missing WAL 000000010000000000000004: restores stop before them; take a new full backup (`lab backup --run`) and find what deleted them",
    ]);
  });

  it("a backup older than its schedule allows, and a repository without any", () => {
    const later = new Date(NOW.getTime() + 2 * DAY * 1000);
    const s = pgStatus(policy, healthy(), later, DAY);
    expect(s.problems).toEqual([
      expect.stringMatching(
        /^db1-main: the newest backup in local \(20261201-202210F_20261201-202214D\) is 2d\d*m?\d*s? old; its schedule allows 1d1h: run `lab backup --run`/,
      ),
      expect.stringMatching(/^db1-main: the newest backup in offsite \(20261201-202243F\) is 2d/),
    ]);
    const noRepo2 = healthy();
    noRepo2.info = { ...noRepo2.info!, backup: noRepo2.info!.backup!.filter((b) => b.database["repo-key"] === 1) };
    expect(pgStatus(policy, noRepo2, NOW, DAY).problems).toEqual([
      "db1-main: repository offsite has no valid backup: run `lab backup --run`",
    ]);
  });

  it("an unreachable host or a missing stanza is a breach that says so", () => {
    expect(
      pgStatus(
        policy,
        { info: undefined, archiver: undefined, listings: {}, unreachable: "db1 unreachable: connection refused" },
        NOW,
        DAY,
      ).problems,
    ).toEqual(["db1-main: cannot check: db1 unreachable: connection refused"]);
    const s = pgStatus(policy, { ...healthy(), info: undefined }, NOW, DAY);
    expect(s.problems).toEqual(['db1-main: pgbackrest info returned no stanza "main": run lab apply (stanza-create)']);
  });

  it("an unencrypted offsite repository that the policy wants encrypted is a breach; accepted WAL loss warns every run", () => {
    const obs = healthy();
    obs.info = { ...obs.info!, repo: obs.info!.repo!.map((r) => ({ ...r, cipher: "none" })) };
    expect(pgStatus(policy, obs, NOW, DAY).problems).toEqual([
      "db1-main: repository offsite should be encrypted but pgBackRest reports cipher none",
    ]);
    expect(pgStatus({ ...policy, acceptWalLoss: true }, healthy(), NOW, DAY).warnings).toHaveLength(1);
  });
});
