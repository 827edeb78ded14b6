import { describe, expect, it } from "vitest";
import { formatMetrics } from "../../../src/backup/metrics.ts";
import { pgStatus } from "../../../src/backup/pg-status.ts";
import { backupMetrics, backupReport, formatBackupTable } from "../../../src/backup/report.ts";
import { vmStatus } from "../../../src/backup/vm-status.ts";
import { NOW, archiver, info, pgPolicy, vmPolicy } from "./fixtures.ts";

const pg = pgPolicy({ schedule: { full: "0 1 * * 0" } });
const vm = vmPolicy({ storage: "pbs" });
const archived = archiver("pg-stat-archiver-recovered.json", {
  failed_count: 0,
  last_failed_time: null,
  last_failed_wal: null,
  last_archived_wal: "000000010000000000000007",
  oldest_ready_time: "2026-12-01T20:24:20Z",
  current_wal: "x",
});

describe("backup report", () => {
  const targets = [
    pgStatus(pg, { info: info("info-two-repos-ok.json"), archiver: archived, listings: {} }, NOW, 86_400),
    vmStatus(
      vm,
      {
        vms: [{ name: "trusted1", vmid: 201 }],
        local: [{ vmid: 201, ctime: 1796090000, size: 5, verification: { state: "ok" } }],
      },
      NOW,
      86_400,
    ),
  ];
  const r = backupReport(targets, NOW, ["a policy warning"]);

  it("a table with one row per repository and VM, then problems and warnings", () => {
    expect(r.ok).toBe(true);
    expect(formatBackupTable(r)).toBe(
      [
        "TARGET    WHERE                       LAST BACKUP                        AGE / ALLOWED     WAL LAG / RPO  STATUS",
        "db1-main  local (repo1 on db1)        20261201-202210F_20261201-202214D  2m12s / 1d1h      10s / 1m       ok",
        "db1-main  offsite (repo2 on backup1)  20261201-202243F                   1m44s / 1d1h      10s / 1m       ok",
        "vms       trusted1 (201)              2026-12-01T01:53:20Z               18h31m10s / 1d1h  - / 1d         ok (verified)",
        "",
        "warning: a policy warning",
        "every target meets its policy (2 checked)",
      ].join("\n"),
    );
  });

  it("metrics: the restorable point is now minus the WAL lag; the RPO beside it under the same labels", () => {
    const text = formatMetrics(backupMetrics(r));
    const nowSec = NOW.getTime() / 1000;
    expect(text).toContain(
      `lab_backup_last_success_timestamp_seconds{target="db1-main",kind="postgres",repository="offsite"} ${nowSec - 10}\n`,
    );
    expect(text).toContain(`lab_backup_rpo_seconds{target="db1-main",kind="postgres",repository="offsite"} 60\n`);
    expect(text).toContain(
      `lab_backup_last_success_timestamp_seconds{target="vms",kind="vm",repository="trusted1"} 1796090000\n`,
    );
    expect(text).toContain('lab_backup_verify_ok{target="vms",kind="vm",repository="trusted1"} 1\n');
    expect(text).toContain('lab_backup_wal_lag_seconds{target="db1-main"} 10\n');
    expect(text).toContain('lab_backup_ok{target="db1-main",kind="postgres"} 1\n');
  });
});
