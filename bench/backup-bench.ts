// `npm run bench`, backups and drills: real PostgreSQL 15 + pgBackRest 2.45 on a
// database host and a backup host (127.0.38.x), configured by lab from a policy
// with RPO 60 s. Measures, side by side in one run:
//   - the WAL archive lag under a steady pgbench write load, as `lab backup` reports
//     it, sampled during the load (target: never above 60 s);
//   - `lab backup` (the nightly status check) wall time (target: under 3 s);
//   - `lab drill` of a pgbench database of scale 50 (~750 MB) under the same load:
//     its RTO with phases and the RPO achieved (target: at most 60 s), next to a bare
//     `pgbackrest restore` + start of the same backup done by hand (target: the
//     drill's restore at most 30 % above the bare one).
// Usage: tsx bench/backup-bench.ts [--scale 50] [--load-sec 90] [--out FILE]
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { BackupReport } from "../src/backup/report.ts";
import type { DrillReport } from "../src/drill/report.ts";
import { stopPrefix } from "../test/hosts/hosts.ts";
import { startPgPair, type PgPair } from "../test/integration/pg-pair.ts";
import { REPO } from "../test/integration/project.ts";

const PREFIX = "lab-bench-pg";
const RPO_SEC = 60;
const PG_BIN = "/usr/lib/postgresql/15/bin";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const SCALE = Number(arg("scale", "50"));
const LOAD_SEC = Number(arg("load-sec", "90"));
const OUT = arg("out", join(REPO, "bench/results/backup-latest.md"));
const log = (m: string) => process.stderr.write(`bench-backup: ${m}\n`);

const POLICY = `
defaults: { rto: 2h, drill_every: 90d, timezone: UTC }
postgres:
  db1-main:
    host: db1
    stanza: main
    rpo: ${RPO_SEC}s
    schedule: { full: "0 1 * * 0", diff: "0 1 * * 1-6" }
    repositories:
      local: { repo: 1, retention: { full: 2, diff: 6 } }
      offsite: { repo: 2, host: backup1, encryption_key: pgbackrest_repo2_cipher, retention: { full: 2, diff: 6 } }
`;
const DRILLS = `
postgres:
  db1-main:
    database: bench
    tables: [public.pgbench_accounts, public.pgbench_branches, public.pgbench_tellers]
    smoke:
      - { name: the branches are there, sql: "select count(*) from pgbench_branches", expect: "${SCALE}" }
`;
const PLAYBOOK = `
import { definePlaybook } from "@lab";
import { postgres, postgresDefaults } from "${join(REPO, "roles/postgres.ts")}";
import { pgbackrestPolicyPlays } from "${join(REPO, "roles/pgbackrest-policy.ts")}";
export default definePlaybook({
  name: "bench-backups",
  plays: [
    { name: "postgres", hosts: "databases", roles: (h) => [postgres({ ...postgresDefaults, listenAddresses: h.connection.address })] },
    ...pgbackrestPolicyPlays({ target: "db1-main", hosts: "databases:backup_hosts" }),
  ],
});
`;

let pair: PgPair | undefined;
let load: ChildProcess | undefined;

const on = (host: string, script: string): Promise<string> => pair!.on(host, script);
const psql = (db: string, sql: string) => on("db1", `cd / && runuser -u postgres -- psql -XAtq -d ${db} -c "${sql}"`);

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await f();
  return [out, (performance.now() - t0) / 1000];
}

/** pgbench with a fixed rate in the background, inside the database host, until stopped. */
function startLoad(sec: number): ChildProcess {
  const c = pair!.container("db1");
  return spawn(
    "docker",
    [
      "exec",
      c,
      "sh",
      "-c",
      `cd / && runuser -u postgres -- ${PG_BIN}/pgbench -n -c 2 -R 40 -T ${sec} bench >/tmp/pgbench.log 2>&1`,
    ],
    { stdio: "ignore" },
  );
}

/** The bare tool: `pgbackrest restore` of repo1's newest backup into a new directory, then start it and wait out recovery. */
async function bareRestore(): Promise<{ copySec: number; startSec: number; replaySec: number; totalSec: number }> {
  const d = "/var/lib/postgresql/bench-bare";
  await on(
    "db1",
    `cd / && { [ ! -f ${d}/postmaster.pid ] || runuser -u postgres -- ${PG_BIN}/pg_ctl -D ${d} -m immediate stop >/dev/null 2>&1 || true; } && rm -rf ${d} && install -d -o postgres -m 700 ${d}`,
  );
  const [, copySec] = await timed(() =>
    on(
      "db1",
      `cd / && runuser -u postgres -- pgbackrest --stanza=main --repo=1 --pg1-path=${d} --archive-mode=off --type=default --log-level-console=warn restore`,
    ),
  );
  await on(
    "db1",
    `printf "port = 55499\\nlisten_addresses = ''\\nunix_socket_directories = '/tmp'\\narchive_mode = off\\nhot_standby = on\\n" > ${d}/postgresql.conf && echo 'local all all peer' > ${d}/pg_hba.conf && chown postgres: ${d}/postgresql.conf ${d}/pg_hba.conf`,
  );
  const [, startSec] = await timed(() =>
    on(
      "db1",
      `cd / && runuser -u postgres -- ${PG_BIN}/pg_ctl -D ${d} -l /tmp/bench-bare.log -w -t 600 start >/dev/null`,
    ),
  );
  const [, replaySec] = await timed(() =>
    on(
      "db1",
      `cd / && until [ "$(runuser -u postgres -- psql -XAtq -h /tmp -p 55499 -c 'select pg_is_in_recovery()' 2>/dev/null)" = f ]; do sleep 0.2; done`,
    ),
  );
  await on("db1", `cd / && runuser -u postgres -- ${PG_BIN}/pg_ctl -D ${d} -m fast stop >/dev/null; rm -rf ${d}`);
  return { copySec, startSec, replaySec, totalSec: copySec + startSec + replaySec };
}

const s1 = (x: number) => `${x.toFixed(1)} s`;

async function main(): Promise<void> {
  pair = await startPgPair({
    prefix: PREFIX,
    subnet: "127.0.38",
    stateDir: join(REPO, ".lab/bench-pg"),
    hosts: { db1: { vars: { stateful: true } } },
    files: { "playbooks/site.ts": PLAYBOOK, "backups/policy.yaml": POLICY, "backups/drills.yaml": DRILLS },
    cipherSecret: "pgbackrest_repo2_cipher",
    cipherPass: "bench-Cipher-Pass-0d4c1b7e",
  });
  const { p, env } = pair;
  const must = async (args: string[], timeoutMs = 1_800_000) => {
    const r = await p.lab(args, { env, timeoutMs });
    if (r.code !== 0)
      throw new Error(`lab ${args.join(" ")}: exit ${r.code}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
    return r;
  };
  log("lab apply (PostgreSQL + pgBackRest, two repositories)");
  await must(["apply", "-y"]);
  log(`pgbench -i -s ${SCALE} (about ${SCALE * 15} MB)`);
  await psql("postgres", "create database bench");
  await on("db1", `cd / && runuser -u postgres -- ${PG_BIN}/pgbench -i -q -s ${SCALE} bench 2>&1 | tail -1`);
  const dbSize = Number(await psql("bench", "select pg_database_size('bench')"));
  log("lab backup --run (full backups into both repositories)");
  const [, fullSec] = await timed(() => must(["backup", "--run"]));

  // lab backup, idle: five runs, the median.
  const idle: number[] = [];
  for (let i = 0; i < 5; i++) idle.push((await timed(() => must(["backup"])))[1]);
  idle.sort((a, b) => a - b);

  // Under a steady write load: the WAL lag as `lab backup` reports it, every 10 s.
  log(`steady pgbench load for ${LOAD_SEC} s, sampling lab backup`);
  load = startLoad(LOAD_SEC + 120);
  const lags: number[] = [];
  const loaded: number[] = [];
  const until = Date.now() + LOAD_SEC * 1000;
  while (Date.now() < until) {
    const [r, sec] = await timed(() => p.lab(["backup", "--json"], { env, timeoutMs: 120_000 }));
    loaded.push(sec);
    const report = JSON.parse(r.stdout) as BackupReport;
    for (const t of report.targets) if (t.kind === "postgres" && t.walLagSec !== undefined) lags.push(t.walLagSec);
    await new Promise((res) => setTimeout(res, 10_000));
  }

  // The drill under the same load, then the bare restore of the same repository.
  log("lab drill (under load)");
  const drillRun = await p.lab(["drill", "--json"], { env, timeoutMs: 3_600_000 });
  load.kill();
  const drill = JSON.parse(drillRun.stdout) as DrillReport;
  const d = drill.drills.find((x) => x.kind === "postgres")!;
  const marker = d.restores.find((r) => r.to === "marker");
  const latest = d.restores.find((r) => r.to === "latest");
  log("bare pgbackrest restore + start, by hand");
  const bare = await bareRestore();

  const drillRestore = marker?.phases ? marker.phases.copySec + marker.phases.startSec + marker.phases.replaySec : NaN;
  const overhead = (drillRestore / bare.totalSec - 1) * 100;
  const maxLag = Math.max(...lags);
  const lines = [
    `# Backups and drills (${new Date().toISOString()})`,
    "",
    `PostgreSQL 15 + pgBackRest 2.45, database host + backup host (127.0.38.x); pgbench scale ${SCALE} (${(dbSize / 1_048_576).toFixed(0)} MB); policy RPO ${RPO_SEC} s.`,
    "",
    "| measure | value | target |",
    "|---|---:|---|",
    `| full backups into both repositories (\`lab backup --run\`) | ${s1(fullSec)} | |`,
    `| \`lab backup\`, idle (median of 5) | ${s1(idle[2]!)} | < 3 s |`,
    `| \`lab backup\` under load (max of ${loaded.length}) | ${s1(Math.max(...loaded))} | < 3 s |`,
    `| WAL archive lag under load (max of ${lags.length} samples) | ${s1(maxLag)} | ≤ ${RPO_SEC} s ${maxLag <= RPO_SEC ? "✓" : "✗"} |`,
    `| drill verdict | ${drill.ok ? "passed" : `FAILED: ${drill.problems.join("; ")}`} | passed |`,
    `| drill RPO achieved (offsite, latest point, under load) | ${latest?.rpoSec !== undefined ? s1(latest.rpoSec) : "-"} | ≤ ${RPO_SEC} s |`,
    `| drill RTO, marker restore from local (copy + start + replay + checks) | ${marker?.rtoSec !== undefined ? s1(marker.rtoSec) : "-"} | ≤ 2 h |`,
    `| — phases: copy / start / replay / checks | ${marker?.phases ? `${s1(marker.phases.copySec)} (${marker.phases.mbPerSec} MB/s) / ${s1(marker.phases.startSec)} / ${s1(marker.phases.replaySec)} / ${s1(marker.phases.checksSec)}` : "-"} | |`,
    `| drill RTO, latest-point restore from offsite | ${latest?.rtoSec !== undefined ? s1(latest.rtoSec) : "-"} | ≤ 2 h |`,
    `| bare \`pgbackrest restore\` + start + recovery, by hand (copy / start / replay) | ${s1(bare.totalSec)} (${s1(bare.copySec)} / ${s1(bare.startSec)} / ${s1(bare.replaySec)}) | |`,
    `| drill's restore (without its checks) over the bare one | ${Number.isFinite(overhead) ? `${overhead >= 0 ? "+" : ""}${overhead.toFixed(0)} %` : "-"} | ≤ +30 % |`,
    "",
  ];
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, lines.join("\n"));
  process.stdout.write(`${lines.join("\n")}\n(written to ${OUT})\n`);
}

main().then(
  async () => {
    await stopPrefix(PREFIX);
  },
  async (e: unknown) => {
    load?.kill();
    process.stderr.write(`bench-backup: ${e instanceof Error ? e.message : String(e)}\n`);
    await stopPrefix(PREFIX);
    process.exitCode = 1;
  },
);
