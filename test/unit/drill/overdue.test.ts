// `lab backup` warns when a PostgreSQL target's last successful drill is older
// than its drill_every (from the JSON reports next to the policy).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { expect, it } from "vitest";
import { checkBackups, type BackupEnv } from "../../../src/backup/check.ts";
import type { BackupPolicy } from "../../../src/backup/policy.ts";
import { pgPolicy } from "../backup/fixtures.ts";
import { tempDir } from "../helpers/temp.ts";

const pg = pgPolicy({
  drillEverySec: 90 * 86400,
  schedule: { full: "0 1 * * 0" },
  repositories: [{ name: "local", index: 1, path: "/p", user: "postgres", retention: { full: 2 } }],
});

it("lab backup's report warns about an overdue drill, and not about a recent one", async () => {
  const root = await tempDir();
  await mkdir(join(root, "backups/reports"), { recursive: true });
  const policy: BackupPolicy = {
    file: join(root, "backups/policy.yaml"),
    postgres: [pg],
    vms: [],
    targets: [pg],
    where: () => undefined,
  };
  let now = new Date("2026-12-15T00:00:00Z");
  const env: BackupEnv = {
    inventory: { hosts: new Map(), lab: { proxmox: {}, pbs: {}, vlans: {}, templates: {}, vms: {} } },
    policy,
    now: () => now,
    exec: () => Promise.resolve({ code: 255, stdout: "", stderr: "unreachable" }),
    pve: () => Promise.reject(new Error("no Proxmox here")),
  };
  expect((await checkBackups(env)).warnings).toContain(
    "db1-main: no successful restore drill on record: run `lab drill db1-main`",
  );
  await writeFile(
    join(root, "backups/reports/drill-2026-09-01T00-00-00Z.json"),
    JSON.stringify({
      format_version: 1,
      run: "R",
      started_at: "2026-09-01T00:00:00.000Z",
      finished_at: "2026-09-01T00:05:00.000Z",
      ok: true,
      interrupted: false,
      drills: [{ target: "db1-main", ok: true }],
      leftovers_removed: [],
      problems: [],
      warnings: [],
    }),
  );
  expect((await checkBackups(env)).warnings.filter((w) => w.includes("restore drill"))).toEqual([
    "db1-main: last successful restore drill 2026-09-01T00:05:00.000Z is 104 days old; the policy asks for one every 90 days: run `lab drill db1-main`",
  ]);
  now = new Date("2026-10-01T00:00:00Z");
  expect((await checkBackups(env)).warnings.filter((w) => w.includes("restore drill"))).toEqual([]);
});
