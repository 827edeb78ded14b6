// `lab drill` against real PostgreSQL 15 + pgBackRest 2.45 on two test hosts: the
// pgbackrest roles applied by the real CLI (repo1 on the database host, repo2
// encrypted on the backup host), a small application table written to while
// drills run. What the drills claim is checked inside the hosts, independently.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drillCommand } from "../../src/cli/drill-command.ts";
import type { PgDrillResult } from "../../src/drill/postgres-drill.ts";
import type { DrillReport } from "../../src/drill/report.ts";

/** This file drills PostgreSQL targets only. */
type PgReport = Omit<DrillReport, "drills"> & { drills: PgDrillResult[] };
import type { TestLab } from "../hosts/hosts.ts";
import { startPgPair, type PgPair } from "./pg-pair.ts";
import { LAB_BIN, REPO, inHost, type LabRun, type TestProject } from "./project.ts";

const CIPHER_PASS = "drill-Cipher-41c9e2-Pass-77ab";

const PLAYBOOK = `
import { definePlaybook } from "@lab";
import { base } from "${join(REPO, "roles/base.ts")}";
import { postgres, postgresDefaults } from "${join(REPO, "roles/postgres.ts")}";
import { pgbackrestDefaults, pgbackrestPlays } from "${join(REPO, "roles/pgbackrest.ts")}";
const vars = () => ({ ...pgbackrestDefaults, dbHost: "db1", backupHost: "backup1" });
export default definePlaybook({
  name: "pg",
  plays: [
    { name: "base", hosts: "all", roles: () => [base({ domain: "home.arpa", note: "drill test", admins: [] })] },
    { name: "postgres", hosts: "db1", roles: (h) => [postgres({ ...postgresDefaults, listenAddresses: h.connection.address })] },
    ...pgbackrestPlays({ hosts: "db1:backup1", vars }),
  ],
});
`;

const POLICY = `
defaults: { rpo: 60s, rto: 15m, drill_every: 90d, timezone: UTC }
postgres:
  db1-main:
    host: db1
    stanza: main
    schedule: { full: "0 1 * * 0", diff: "0 1 * * 1-6" }
    repositories:
      local: { repo: 1 }
      offsite: { repo: 2, host: backup1, encryption_key: pgbackrest_repo2_cipher_pass }
`;

const DRILLS = `
postgres:
  db1-main:
    database: app
    tables: [public.orders, public.customers]
    smoke:
      - { name: customers are there, sql: "select count(*) from customers", expect: "50" }
`;

let lab: TestLab;
let p: TestProject;
let env: Record<string, string>;
let on: PgPair["on"];
let container: PgPair["container"];
const psql = (db: string, sql: string) => on("db1", `runuser -u postgres -- psql -XAtq -d ${db} -c "${sql}"`);
/** Every file name in a repository's archive (names are clear text even in the encrypted repo2). */
const archiveFiles = async (host: string) =>
  (await on(host, "cd /var/lib/pgbackrest/archive/main && find . -type f | sort")).split("\n");
const scratchLeft = async () =>
  on(
    "db1",
    "ls -A /var/lib/lab-drill 2>/dev/null; ps -eo args | grep -e '/var/lib/lab-drill' -e 'heartbeat.sql' | grep -v grep; true",
  );
const drill = async (args: string[] = []): Promise<{ run: LabRun; report: PgReport }> => {
  const r = await p.lab(["drill", "--json", ...args], { env, timeoutMs: 900_000 });
  try {
    return { run: r, report: JSON.parse(r.stdout) as PgReport };
  } catch {
    throw new Error(`lab drill printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
};
/** Live writes into the application table while a drill runs (a row every 200 ms), stopped by the returned function. */
const writer = async () => {
  await on(
    "db1",
    "rm -f /tmp/writer.stop; nohup sh -c 'while [ ! -f /tmp/writer.stop ]; do runuser -u postgres -- psql -XAtq -d app -c \"insert into orders (customer, amount) values (1 + (random() * 49)::int, random() * 100)\" >/dev/null; sleep 0.2; done' >/dev/null 2>&1 &",
  );
  return () => on("db1", "touch /tmp/writer.stop; sleep 1");
};
/** A drill as a child process (to be interrupted), started once a scratch copy is being restored. */
const drillChild = () => {
  const child = spawn("node", [LAB_BIN, "-C", p.root, "drill"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number>((done) => child.on("exit", (code, sig) => done(code ?? (sig ? 128 : 1))));
  /** Until this run restores: a scratch data dir that is not one of `leftovers` (a dead run's). */
  const restoring = async (leftovers: string[] = []) => {
    const until = Date.now() + 180_000;
    while (Date.now() < until) {
      const dirs = (await inHost(container("db1"), "ls -d /var/lib/lab-drill/*-marker-*/data/base 2>/dev/null")).stdout
        .trim()
        .split("\n")
        .filter(Boolean);
      if (dirs.some((d) => !leftovers.includes(d))) return dirs;
      await new Promise((r) => setTimeout(r, 300));
    }
    child.kill("SIGKILL");
    throw new Error(`no restore started:\n${out}`);
  };
  return { child, exited, restoring, output: () => out };
};

beforeAll(async () => {
  ({ lab, p, env, on, container } = await startPgPair({
    prefix: "lab-it-drill",
    subnet: "127.0.40",
    stateDir: ".lab/lab-it-drill",
    groups: {},
    files: { "playbooks/site.ts": PLAYBOOK, "backups/policy.yaml": POLICY, "backups/drills.yaml": DRILLS },
    cipherPass: CIPHER_PASS,
  }));
  const applied = await p.lab(["apply", "-y"], { env, timeoutMs: 600_000 });
  expect(applied.code, applied.stdout + applied.stderr).toBe(0);
  await psql("postgres", "create database app");
  await psql(
    "app",
    "create table customers (id int primary key, name text); insert into customers select i, 'customer ' || i from generate_series(1, 50) i; create table orders (id bigserial primary key, customer int references customers, amount numeric, at timestamptz default now()); insert into orders (customer, amount) select 1 + i % 50, i from generate_series(1, 2000) i; create index on orders (customer)",
  );
  // As the roles' cron entries run them: repo2's backup on its repository host (pgBackRest refuses it elsewhere).
  await on("db1", "runuser -u postgres -- pgbackrest --stanza=main --repo=1 --type=full backup");
  await on("backup1", "runuser -u pgbackrest -- pgbackrest --stanza=main --repo=2 --type=full backup");
}, 1_200_000);

afterAll(async () => {
  if (process.env.LAB_KEEP_HOSTS !== "1") await lab?.stop();
});

describe("lab drill: PostgreSQL restore drills on real pgBackRest repositories", { timeout: 900_000 }, () => {
  it("with live writes: restores to the marker with an exact checksum match, measures RPO and RTO, leaves production's repositories alone", async () => {
    const before = { repo1: await archiveFiles("db1"), repo2: await archiveFiles("backup1") };
    const stop = await writer();
    let d: Awaited<ReturnType<typeof drill>>;
    try {
      d = await drill();
    } finally {
      await stop();
    }
    const { run: r, report } = d;
    expect(r.code, r.stderr + JSON.stringify(report.problems)).toBe(0);
    expect(report.ok).toBe(true);
    const t = report.drills[0]!;
    expect(t.target).toBe("db1-main");
    // marker from the local repository, latest point from the encrypted offsite one
    expect(t.restores.map((x) => [x.repository, x.to, x.ok])).toEqual([
      ["local", "marker", true],
      ["offsite", "latest", true],
    ]);
    const marker = t.restores[0]!;
    expect(marker.checks.find((c) => c.name === "checksums at the marker")!.detail).toMatch(
      /^2 table\(s\), \d+ rows: exact match$/,
    );
    expect(marker.checks.map((c) => [c.name, c.ok])).toEqual([
      ["checksums at the marker", true],
      ["pg_amcheck", true],
      ["smoke: customers are there", true],
    ]);
    expect(t.marker!.rows).toBeGreaterThan(2050); // the live writes before the marker are in it
    // The writer kept writing: production has more rows than the marker saw.
    expect(Number(await psql("app", "select count(*) from orders")) + 50).toBeGreaterThan(t.marker!.rows);
    const latest = t.restores[1]!;
    expect(latest.checks.find((c) => c.name === "reached the end of the archive")!.ok).toBe(true);
    expect(t.rpoSec).toBeGreaterThanOrEqual(0);
    expect(t.rpoSec).toBeLessThanOrEqual(60);
    expect(t.rtoSec).toBeGreaterThan(0);
    for (const x of t.restores) {
      expect(x.phases!.copySec).toBeGreaterThan(0);
      expect(x.phases!.bytes).toBeGreaterThan(1_000_000);
      expect(x.rtoSec).toBeCloseTo(
        x.phases!.copySec + x.phases!.startSec + x.phases!.replaySec + x.phases!.checksSec,
        6,
      );
    }
    // Production untouched, by lab's account and by the hosts' own: no history file, no WAL of another timeline.
    expect(t.foreignFiles).toEqual([]);
    for (const [host, old] of [
      ["db1", before.repo1],
      ["backup1", before.repo2],
    ] as const) {
      const added = (await archiveFiles(host)).filter((f) => !old.includes(f));
      expect(added.length).toBeGreaterThan(0); // production's own WAL kept flowing
      expect(added.filter((f) => f.endsWith(".history") || !/\/00000001[0-9A-F]{16}/.test(f))).toEqual([]);
    }
    expect(await on("db1", "pg_lsclusters -h")).toMatch(/^15 main 5432 online postgres/);
    expect(await psql("postgres", "select timeline_id from pg_control_checkpoint()")).toBe("1");
    // Nothing left behind; reports, chart and metrics written.
    expect(await scratchLeft()).toBe("");
    const reports = await readdir(join(p.root, "backups/reports"));
    expect(reports.filter((f) => f.endsWith(".md")).length).toBe(1);
    const md = await readFile(
      join(
        p.root,
        "backups/reports",
        reports.find((f) => f.endsWith(".md"))!,
      ),
      "utf8",
    );
    expect(md).toContain("| db1-main | local (repo1): restore point lab-drill-");
    expect(md).toMatch(/\.svg\)/);
    expect(
      await readFile(
        join(
          p.root,
          "backups/reports",
          reports.find((f) => f.endsWith(".svg"))!,
        ),
        "utf8",
      ),
    ).toContain("<circle");
    const prom = await readFile(join(p.root, ".lab/metrics/lab-drill.prom"), "utf8");
    expect(prom).toContain('lab_drill_success{target="db1-main",kind="postgres"} 1');
    expect(prom).toMatch(/lab_drill_rpo_seconds\{target="db1-main",kind="postgres"\} \d/);
    expect(prom).toMatch(/lab_drill_rto_seconds\{target="db1-main",kind="postgres"\} \d/);
  });

  it("a crashed drill's leftovers are removed by the next one; a drill interrupted with SIGINT leaves nothing behind", async () => {
    const crashed = drillChild();
    const leftovers = await crashed.restoring();
    crashed.child.kill("SIGKILL");
    await crashed.exited;
    expect(await on("db1", "ls /var/lib/lab-drill")).toMatch(/-heartbeat/); // marked leftovers of the dead run
    const interrupted = drillChild();
    await interrupted.restoring(leftovers);
    expect(interrupted.output()).toMatch(/removed leftovers of a crashed drill: db1:\/var\/lib\/lab-drill\//);
    interrupted.child.kill("SIGINT");
    expect(await interrupted.exited, interrupted.output()).toBe(130);
    expect(await scratchLeft()).toBe("");
    expect(await psql("postgres", "select timeline_id from pg_control_checkpoint()")).toBe("1");
  });

  it("a copy whose data differs from the marker fails its checks (the copy is altered through a test hook before the checks)", async () => {
    const out: string[] = [];
    const sink = { write: (s: string) => (out.push(s), true) } as unknown as NodeJS.WritableStream;
    process.env.LAB_AGE_KEY_FILE = env.LAB_AGE_KEY_FILE;
    const code = await drillCommand({
      root: p.root,
      inventory: join(p.root, "inventory"),
      targets: [],
      json: true,
      stdout: sink,
      stderr: sink,
      beforeChecks: async (c) => {
        const r = await inHost(
          container(c.host),
          `runuser -u postgres -- /usr/lib/postgresql/15/bin/psql -XAtq -h ${c.socketDir} -p ${c.port} -d app -c "update orders set amount = amount + 1 where id = 7"`,
        );
        expect(r.code, r.stderr).toBe(0);
      },
    });
    expect(code).toBe(7);
    const report = JSON.parse(out.find((s) => s.startsWith("{"))!) as DrillReport;
    const sums = report.drills[0]!.restores[0]!.checks.find((c) => c.name === "checksums at the marker")!;
    expect(sums.ok).toBe(false);
    expect(sums.detail).toMatch(
      /^public\.orders: \d+ rows \(checksum -?\d+\) in the copy, \d+ rows \(checksum -?\d+\) at the marker$/,
    );
    expect(report.problems.join("\n")).toContain("db1-main: local (marker): checksums at the marker: public.orders");
    expect(await scratchLeft()).toBe("");
  });

  it("a drill after a WAL segment was deleted from the offsite repository FAILS and names the segment", async () => {
    const info = JSON.parse(
      await on("db1", "runuser -u postgres -- pgbackrest --stanza=main --repo=2 --output=json info"),
    ) as { backup: { archive: { stop: string } }[] }[];
    const stop = info[0]!.backup.at(-1)!.archive.stop;
    const seg = (BigInt(`0x${stop.slice(8)}`) + 1n).toString(16).toUpperCase().padStart(16, "0");
    const victim = `00000001${seg}`;
    const deleted = await on("backup1", `f=$(ls /var/lib/pgbackrest/archive/main/15-1/*/${victim}-*); rm -v $f`);
    expect(deleted).toContain(victim);
    const before = await archiveFiles("backup1");
    const { run: r, report } = await drill();
    expect(r.code).toBe(7);
    const latest = report.drills[0]!.restores.find((x) => x.to === "latest")!;
    expect(latest.ok).toBe(false);
    const end = latest.checks.find((c) => c.name === "reached the end of the archive")!;
    expect(end.ok).toBe(false);
    expect(end.detail).toContain(`missing WAL segment ${victim}`);
    expect(report.problems.join("\n")).toContain(victim);
    // The marker restore from the intact local repository still passed.
    expect(report.drills[0]!.restores.find((x) => x.to === "marker")!.ok).toBe(true);
    // Even a copy that ended early (and promoted) added nothing to the repository.
    expect(
      (await archiveFiles("backup1")).filter(
        (f) => !before.includes(f) && (f.endsWith(".history") || !/\/00000001[0-9A-F]{16}/.test(f)),
      ),
    ).toEqual([]);
    expect(existsSync(join(p.root, ".lab/metrics/lab-drill.prom"))).toBe(true);
    expect(await readFile(join(p.root, ".lab/metrics/lab-drill.prom"), "utf8")).toContain(
      'lab_drill_success{target="db1-main",kind="postgres"} 0',
    );
    expect(await scratchLeft()).toBe("");
  });
});
