// The drill's report (Markdown table, terminal table, JSON verdict), its SVG
// chart over past drills, its textfile metrics, and the overdue-drill warning.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { formatMetrics } from "../../../src/backup/metrics.ts";
import { chartPoints, chartSvg } from "../../../src/drill/chart.ts";
import { drillOverdue, lastSuccessfulDrill } from "../../../src/drill/history.ts";
import { drillMetrics } from "../../../src/drill/metrics.ts";
import type { PgDrillResult } from "../../../src/drill/postgres-drill.ts";
import { drillReport, formatMarkdown, formatTable, reportBase, type DrillReport } from "../../../src/drill/report.ts";
import { tempDir } from "../helpers/temp.ts";

const phases = { copySec: 12.5, bytes: 40 * 1_048_576, mbPerSec: 3.2, startSec: 2, replaySec: 1.5, checksSec: 4 };
const drill = (over: Partial<PgDrillResult> = {}): PgDrillResult => ({
  target: "db1-main",
  kind: "postgres",
  host: "db1",
  scratchHost: "db1",
  ok: true,
  rpoSec: 1.2,
  rpoPolicySec: 60,
  rtoSec: 20,
  rtoPolicySec: 7200,
  marker: {
    name: "lab-drill-R1",
    lsn: "0/5000060",
    time: "2026-12-01T21:00:00.000Z",
    database: "app",
    tables: 2,
    rows: 2050,
  },
  restores: [
    {
      repository: "local",
      repoIndex: 1,
      to: "marker",
      point: "restore point lab-drill-R1 (0/5000060, 2026-12-01T21:00:00.000Z)",
      backup: "20261201-210000F",
      phases,
      rtoSec: 20,
      checks: [
        { name: "checksums at the marker", ok: true, detail: "2 table(s), 2050 rows: exact match" },
        { name: "pg_amcheck", ok: true, detail: "clean" },
      ],
      ok: true,
      problems: [],
    },
    {
      repository: "offsite",
      repoIndex: 2,
      to: "latest",
      point: "end of the archive (failure declared 2026-12-01T21:01:00.000Z)",
      backup: "20261201-210000F",
      phases,
      rtoSec: 20,
      rpoSec: 1.2,
      checks: [
        { name: "reached the end of the archive", ok: true, detail: "recovery ended at 0/7000000" },
        { name: "pg_amcheck", ok: true, detail: "clean" },
      ],
      ok: true,
      problems: [],
    },
  ],
  foreignFiles: [],
  problems: [],
  ...over,
});
const report = (drills: PgDrillResult[], startedAt = "2026-12-01T21:00:00.123Z", interrupted = false): DrillReport =>
  drillReport({
    run: "R1",
    started_at: startedAt,
    finished_at: "2026-12-01T21:02:00.000Z",
    interrupted,
    drills,
    leftovers_removed: [],
    warnings: [],
  });

describe("drill report", () => {
  it("passes only when every drill passed; an interrupted run never passes", () => {
    expect(report([drill()]).ok).toBe(true);
    expect(report([drill({ ok: false, problems: ["db1-main: x"] })]).problems).toEqual(["db1-main: x"]);
    expect(report([drill()], undefined, true).ok).toBe(false);
    expect(report([]).ok).toBe(false);
    expect(reportBase("2026-12-01T21:00:00.123Z")).toBe("drill-2026-12-01T21-00-00Z");
  });

  it("Markdown: one table row per restore with RPO and RTO vs policy, the RTO's phases, checks, verdict, and the chart", () => {
    const md = formatMarkdown(report([drill()]), "chart.svg");
    expect(md).toContain(
      "| target | restored point | RPO achieved / policy | RTO achieved / policy (phases) | checks | verdict |",
    );
    expect(md).toContain(
      "| db1-main | local (repo1): restore point lab-drill-R1 (0/5000060, 2026-12-01T21:00:00.000Z), backup 20261201-210000F | - | 20.0s = copy 12.5s (40 MB, 3.2 MB/s) + start 2.0s + replay 1.5s + checks 4.0s / 2h | ok checksums at the marker<br>ok pg_amcheck | ok |",
    );
    expect(md).toContain(
      "| db1-main | offsite (repo2): end of the archive (failure declared 2026-12-01T21:01:00.000Z), backup 20261201-210000F | 1.2s / 1m |",
    );
    expect(md).toContain("![RPO and RTO over past drills](chart.svg)");
    const bad = drill({
      ok: false,
      problems: [
        "db1-main: offsite (latest): reached the end of the archive: missing WAL segment 000000010000000000000005",
      ],
    });
    const failed = formatMarkdown(
      report([
        {
          ...bad,
          restores: [
            bad.restores[0]!,
            {
              ...bad.restores[1]!,
              ok: false,
              checks: [
                {
                  name: "reached the end of the archive",
                  ok: false,
                  detail: "missing WAL segment 000000010000000000000005",
                },
              ],
            },
          ],
        },
      ]),
      "c.svg",
    );
    expect(failed).toContain(
      "FAILED reached the end of the archive: missing WAL segment 000000010000000000000005 | **FAILED** |",
    );
    expect(failed).toContain("## Problems");
  });

  it("terminal table", () => {
    const t = formatTable(report([drill()]));
    expect(t.split("\n")[0]).toMatch(/^TARGET\s+RESTORE\s+RPO \/ POLICY\s+RTO \/ POLICY\s+CHECKS\s+VERDICT$/);
    expect(t).toMatch(/db1-main\s+offsite latest\s+1\.2s \/ 1m\s+20\.0s \/ 2h\s+2\/2 ok\s+ok/);
    expect(t).toContain("every drill passed and met its policy (1 target(s))");
  });

  it("metrics per target", () => {
    const text = formatMetrics(drillMetrics(report([drill()])));
    expect(text).toContain('lab_drill_last_run_timestamp_seconds{target="db1-main",kind="postgres"} 1796158920');
    expect(text).toContain('lab_drill_success{target="db1-main",kind="postgres"} 1');
    expect(text).toContain('lab_drill_rpo_seconds{target="db1-main",kind="postgres"} 1.2');
    expect(text).toContain('lab_drill_rto_seconds{target="db1-main",kind="postgres"} 20');
    expect(formatMetrics(drillMetrics(report([drill({ ok: false })])))).toContain(
      'lab_drill_success{target="db1-main",kind="postgres"} 0',
    );
  });
});

describe("chart", () => {
  it("draws each target's RPO and RTO over past drills, with the policy dashed, as well-formed SVG", () => {
    const reports = [
      report([drill({ rpoSec: 5, rtoSec: 30 })], "2026-09-01T00:00:00Z"),
      report(
        [drill({ rpoSec: 2, rtoSec: 25 }), drill({ target: "db2", rpoSec: 9, rtoSec: 40 })],
        "2026-12-01T00:00:00Z",
      ),
    ];
    const points = chartPoints(reports);
    expect(points.map((p) => [p.target, p.rpoSec])).toEqual([
      ["db1-main", 5],
      ["db1-main", 2],
      ["db2", 9],
    ]);
    const svg = chartSvg(points);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<polyline/g)!.length).toBe(2); // db1-main in both panels; db2 has one point
    expect(svg.match(/<circle/g)!.length).toBe(6);
    expect(svg.match(/stroke-dasharray/g)!.length).toBe(4);
    expect(svg).toContain("2026-09-01 .. 2026-12-01 (3 drill result(s))");
    // Every tag closed: it parses as XML (a crude check without a dependency).
    const opened = [...svg.matchAll(/<[a-z]+\b[^>]*>/g)].filter((m) => !m[0].endsWith("/>")).length;
    const closed = (svg.match(/<\/[a-z]+>/g) ?? []).length;
    expect(opened).toBe(closed);
    expect(chartSvg([])).toContain("no drills yet");
  });
});

describe("last successful drill", () => {
  it("comes from the JSON reports; overdue after drill_every", async () => {
    const root = await tempDir();
    await mkdir(join(root, "backups/reports"), { recursive: true });
    const ok = report([drill()], "2026-09-01T00:00:00Z");
    const failed = report([drill({ ok: false })], "2026-10-01T00:00:00Z");
    await writeFile(
      join(root, "backups/reports/drill-2026-09-01T00-00-00Z.json"),
      JSON.stringify({ ...ok, finished_at: "2026-09-01T00:05:00.000Z" }),
    );
    await writeFile(join(root, "backups/reports/drill-2026-10-01T00-00-00Z.json"), JSON.stringify(failed));
    await writeFile(join(root, "backups/reports/drill-broken.json"), "{");
    const last = await lastSuccessfulDrill(root, "db1-main");
    expect(last?.toISOString()).toBe("2026-09-01T00:05:00.000Z");
    expect(await lastSuccessfulDrill(root, "db2")).toBeUndefined();
    expect(drillOverdue("db1-main", last, 90 * 86400, new Date("2026-11-01T00:00:00Z"))).toBeUndefined();
    expect(drillOverdue("db1-main", last, 90 * 86400, new Date("2026-12-15T00:00:00Z"))).toBe(
      "db1-main: last successful restore drill 2026-09-01T00:05:00.000Z is 104 days old; the policy asks for one every 90 days: run `lab drill db1-main`",
    );
    expect(drillOverdue("db2", undefined, 90 * 86400, new Date())).toMatch(/no successful restore drill on record/);
  });
});

it("the JSON report is plain data (round-trips)", () => {
  const r = report([drill()]);
  expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  expect(new Ajv().validate({ type: "object", required: ["format_version", "run", "ok", "drills"] }, r)).toBe(true);
});
