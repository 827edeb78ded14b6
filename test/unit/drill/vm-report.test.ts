// VM drills in the report exactly like PostgreSQL ones: a Markdown row per
// restore (which backup, the scratch VM and VLAN, RPO and RTO with its phases,
// probes, verdict), the terminal table, metrics per target with kind="vm", the
// chart, and the drill history (last success, last older-backup restore).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatMetrics } from "../../../src/backup/metrics.ts";
import { chartPoints } from "../../../src/drill/chart.ts";
import { lastOlderPass, overdueDrills } from "../../../src/drill/history.ts";
import { drillMetrics } from "../../../src/drill/metrics.ts";
import { drillReport, formatMarkdown, formatTable } from "../../../src/drill/report.ts";
import type { VmDrillResult, VmRestoreOutcome } from "../../../src/drill/vm-drill.ts";
import { tempDir } from "../helpers/temp.ts";

const restore = (over: Partial<VmRestoreOutcome> = {}): VmRestoreOutcome => ({
  vm: "app1",
  vmid: 200,
  which: "newest",
  backup: "pbs:backup/vm/200/2026-12-01T02:30:00Z",
  backupAt: "2026-12-01T02:30:00.000Z",
  scratchVmid: 299,
  vlan: "Lab",
  address: "10.10.40.5",
  phases: { restoreSec: 30, startSec: 2, agentSec: 8, probesSec: 1.5 },
  rtoSec: 41.5,
  rpoSec: 68400,
  checks: [{ name: "ssh: the data survived", ok: true, detail: 'printed "x"' }],
  ok: true,
  problems: [],
  ...over,
});
const vmDrill = (over: Partial<VmDrillResult> = {}): VmDrillResult => ({
  target: "apps",
  kind: "vm",
  endpoint: "pve1",
  ok: true,
  rpoSec: 68400,
  rpoPolicySec: 86400 + 3600,
  rtoSec: 41.5,
  rtoPolicySec: 7200,
  older: { restored: true, forced: false, seed: 7 },
  restores: [
    restore(),
    restore({
      which: "older",
      backupAt: "2026-11-01T02:30:00.000Z",
      seed: 7,
      candidates: 12,
      rtoSec: 40,
      rpoSec: undefined,
    }),
  ],
  productionChanged: [],
  problems: [],
  ...over,
});
const report = (drills: VmDrillResult[], startedAt = "2026-12-01T21:30:00.000Z") =>
  drillReport({
    run: "R1",
    started_at: startedAt,
    finished_at: "2026-12-01T21:32:00.000Z",
    interrupted: false,
    drills,
    leftovers_removed: ["pve1/298 (lab-drill-app1)"],
    warnings: [],
  });

describe("VM drills in the report", () => {
  it("Markdown: which backup went to which scratch VM on which VLAN, RPO (newest only), RTO with restore/start/agent/probes, probes, verdict", () => {
    const md = formatMarkdown(report([vmDrill()]), "c.svg");
    expect(md).toContain(
      "| apps | app1 (200): newest backup 2026-12-01T02:30:00.000Z -> scratch VM 299 on Lab | 19h / 1d1h | 41.5s = restore 30.0s + start 2.0s + agent 8.0s + probes 1.5s / 2h | ok ssh: the data survived | ok |",
    );
    expect(md).toContain(
      "| apps | app1 (200): older backup 2026-11-01T02:30:00.000Z (random pick of 12 older, seed 7) -> scratch VM 299 on Lab | - |",
    );
    expect(md).toContain("- apps: RPO 19h (policy 1d1h), RTO 41.5s (policy 2h), production VMs untouched: **passed**");
    expect(md).toContain("Removed leftovers of crashed drills: pve1/298 (lab-drill-app1)");
    const bad = vmDrill({
      ok: false,
      productionChanged: ["app1"],
      restores: [restore({ ok: false, checks: [{ name: "ssh: data", ok: false, detail: "exit 1: no" }] })],
      problems: ["apps: x"],
    });
    const failed = formatMarkdown(report([bad]), "c.svg");
    expect(failed).toContain("FAILED ssh: data: exit 1: no | **FAILED** |");
    expect(failed).toContain("production VMs CHANGED (app1): **failed**");
  });

  it("terminal table and metrics", () => {
    const t = formatTable(report([vmDrill()]));
    expect(t).toMatch(/apps\s+app1 newest -> 299\s+19h \/ 1d1h\s+41\.5s \/ 2h\s+1\/1 ok\s+ok/);
    expect(t).toMatch(/apps\s+app1 older -> 299\s+-\s+40\.0s \/ 2h\s+1\/1 ok\s+ok/);
    const m = formatMetrics(drillMetrics(report([vmDrill()])));
    expect(m).toContain('lab_drill_success{target="apps",kind="vm"} 1');
    expect(m).toContain('lab_drill_rpo_seconds{target="apps",kind="vm"} 68400');
    expect(m).toContain('lab_drill_rto_seconds{target="apps",kind="vm"} 41.5');
    expect(chartPoints([report([vmDrill()])])).toEqual([
      {
        target: "apps",
        at: Date.parse("2026-12-01T21:30:00.000Z"),
        rpoSec: 68400,
        rtoSec: 41.5,
        rpoPolicySec: 90000,
        rtoPolicySec: 7200,
      },
    ]);
  });

  it("history: the last older-backup restore that passed; overdue warnings for VM targets", async () => {
    const root = await tempDir();
    await mkdir(join(root, "backups/reports"), { recursive: true });
    await writeFile(
      join(root, "backups/reports/drill-a.json"),
      JSON.stringify({ ...report([vmDrill()], "2026-09-01T00:00:00Z"), finished_at: "2026-09-01T00:05:00.000Z" }),
    );
    await writeFile(
      join(root, "backups/reports/drill-b.json"),
      JSON.stringify({
        ...report(
          [vmDrill({ older: { restored: false, forced: false, seed: 1 }, restores: [restore()] })],
          "2026-10-01T00:00:00Z",
        ),
        finished_at: "2026-10-01T00:05:00.000Z",
      }),
    );
    await writeFile(
      join(root, "backups/reports/drill-c.json"),
      JSON.stringify({
        ...report([vmDrill({ ok: false })], "2026-11-01T00:00:00Z"),
        finished_at: "2026-11-01T00:05:00.000Z",
      }),
    );
    expect((await lastOlderPass(root, "apps"))?.toISOString()).toBe("2026-09-01T00:05:00.000Z");
    expect(await lastOlderPass(root, "db1-main")).toBeUndefined();
    expect(
      await overdueDrills(
        root,
        [
          { name: "apps", drillEverySec: 90 * 86400 },
          { name: "media", drillEverySec: 90 * 86400 },
        ],
        new Date("2026-12-01T00:00:00Z"),
      ),
    ).toEqual(["media: no successful restore drill on record: run `lab drill media`"]);
    expect(
      await overdueDrills(root, [{ name: "apps", drillEverySec: 30 * 86400 }], new Date("2026-12-01T00:00:00Z")),
    ).toEqual([
      "apps: last successful restore drill 2026-10-01T00:05:00.000Z is 60 days old; the policy asks for one every 30 days: run `lab drill apps`",
    ]);
  });
});
