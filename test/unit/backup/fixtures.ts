// Shared fixtures of the backup unit tests: outputs recorded on a real PostgreSQL 15 +
// pgBackRest 2.45 (test/fixtures/pgbackrest/, around 2026-12-01 20:22 UTC), the policies
// the tests check against, and the framing of the database host's one round trip.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ArchiverState, PgbrInfoStanza } from "../../../src/backup/pg-status.ts";
import type { PgPolicy, VmPolicy } from "../../../src/backup/policy.ts";

/** A recorded output, as text. */
export const fx = (f: string) => readFileSync(join(import.meta.dirname, "../../fixtures/pgbackrest", f), "utf8");
export const info = (f: string) => (JSON.parse(fx(f)) as PgbrInfoStanza[])[0]!;
export const listing = (f: string) => JSON.parse(fx(f)) as Record<string, { type: string }>;
/** A recorded pg_stat_archiver row; the fields lab's query adds are set (or passed in `extra`). */
export const archiver = (f: string, extra: Partial<ArchiverState> = {}): ArchiverState => ({
  ...(JSON.parse(fx(f)) as Omit<ArchiverState, "oldest_ready_time" | "current_wal">),
  oldest_ready_time: null,
  current_wal: "000000010000000000000008",
  ...extra,
});
/** Shortly after the outputs were recorded. */
export const NOW = new Date("2026-12-01T20:24:30Z");

/** db1's cluster 15/main: a local and an encrypted offsite repository; `over` replaces fields. */
export const pgPolicy = (over: Partial<PgPolicy> = {}): PgPolicy => ({
  kind: "postgres",
  name: "db1-main",
  host: "db1",
  cluster: "15/main",
  stanza: "main",
  rpoSec: 60,
  rtoSec: 7200,
  drillEverySec: 1,
  timezone: "UTC",
  schedule: { full: "0 1 * * 0", diff: "0 1 * * 1-6" },
  acceptWalLoss: false,
  repositories: [
    { name: "local", index: 1, path: "/p", user: "postgres", retention: { full: 2 } },
    {
      name: "offsite",
      index: 2,
      host: "backup1",
      path: "/p",
      user: "pgbackrest",
      encryptionKey: "k",
      retention: { full: 2 },
    },
  ],
  ...over,
});

/** VM trusted1 on pve1, backed up to pbs1; `over` replaces fields. */
export const vmPolicy = (over: Partial<VmPolicy> = {}): VmPolicy => ({
  kind: "vm",
  name: "vms",
  vms: ["trusted1"],
  selector: { vms: ["trusted1"] },
  endpoint: "pve1",
  pbs: "pbs1",
  datastore: "lab",
  storage: "pbs-lab",
  schedule: "02:30",
  mode: "snapshot",
  retention: { daily: 7 },
  rpoSec: 86_400,
  rtoSec: 1,
  drillEverySec: 1,
  timezone: "UTC",
  ...over,
});

/** As the collect script frames its parts: the marker, the output as it came, a newline, the exit code. */
export const framed = (parts: [string, string, number][]) =>
  parts.map(([n, out, rc]) => `@@lab-backup:${n}\n${out}\n@@lab-backup:rc:${rc}\n`).join("");
