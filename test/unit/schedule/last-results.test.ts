// The last result of each job comes from what lab already leaves behind: the
// backup status file, the audit record of `lab backup verify`, the newest drill report.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { statusFile } from "../../../src/backup/report.ts";
import { reportBase } from "../../../src/drill/report.ts";
import { appendAudit } from "../../../src/engine/audit.ts";
import { lastResult } from "../../../src/schedule/last-results.ts";
import { tempDir } from "../helpers/temp.ts";

const audit = (root: string, playbook: string, exitCode: number, time: string) =>
  appendAudit(
    {
      argv: [],
      playbook,
      hosts: [],
      check: true,
      changes: [],
      outcome: exitCode ? "failed" : "ok",
      exitCode,
      durationMs: 1,
      time,
    },
    { root },
  );

async function drill(root: string, startedAt: string, ok: boolean, problems: string[] = []) {
  await mkdir(join(root, "backups", "reports"), { recursive: true });
  const r = {
    format_version: 1,
    run: `run-${startedAt}`,
    started_at: startedAt,
    finished_at: startedAt.replace(":00Z", ":30Z"),
    ok,
    interrupted: false,
    drills: [{ target: "db1-main", ok }],
    leftovers_removed: [],
    problems,
    warnings: [],
  };
  await writeFile(join(root, "backups", "reports", `${reportBase(startedAt)}.json`), JSON.stringify(r));
}

describe("last results", () => {
  it("none yet: undefined for every job", async () => {
    const root = await tempDir();
    for (const k of ["backup", "verify", "drill"] as const) expect(await lastResult(root, k)).toBeUndefined();
  });

  it("backup: the status file; verify: the newest `lab backup verify` audit record; drill: the newest report", async () => {
    const root = await tempDir();
    await mkdir(join(root, ".lab", "backup"), { recursive: true });
    await writeFile(
      statusFile(root),
      JSON.stringify({
        format_version: 1,
        checked_at: "2026-12-01T02:30:05Z",
        ok: false,
        targets: [{}],
        problems: ["db1-main: WAL archive lag 5m exceeds the RPO 1m", "second"],
        warnings: [],
      }),
    );
    await audit(root, "(lab backup verify)", 0, "2026-11-29T03:30:00Z");
    await audit(root, "(lab backup verify)", 6, "2026-11-30T03:30:00Z");
    await audit(root, "(lab backup)", 0, "2026-12-01T02:30:00Z"); // another command's record is not verify's
    await drill(root, "2026-07-01T04:00:00Z", false, ["db1-main: restore stopped at a WAL gap"]);
    await drill(root, "2026-10-01T04:00:00Z", true);

    expect(await lastResult(root, "backup")).toEqual({
      at: "2026-12-01T02:30:05Z",
      ok: false,
      summary: "db1-main: WAL archive lag 5m exceeds the RPO 1m (+1 more)",
      from: statusFile(root),
    });
    expect(await lastResult(root, "verify")).toMatchObject({
      at: "2026-11-30T03:30:00Z",
      ok: false,
      summary: "exit 6: verification found damage (run lab backup verify for the findings)",
    });
    expect(await lastResult(root, "drill")).toMatchObject({
      at: "2026-10-01T04:00:30Z",
      ok: true,
      summary: "1 drill(s) passed",
    });
  });

  it("a half-written status file is no result", async () => {
    const root = await tempDir();
    await mkdir(join(root, ".lab", "backup"), { recursive: true });
    await writeFile(statusFile(root), '{"format_version": 1, "checked_');
    expect(await lastResult(root, "backup")).toBeUndefined();
  });
});
