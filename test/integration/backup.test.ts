// `lab backup` against REAL PostgreSQL 15 + pgBackRest 2.45 on a database host and a
// separate backup host, configured from backups/policy.yaml by the pgbackrest roles:
// green when healthy; then every fault is detected with exit 6 and a message naming
// the target and the cause: a repository made read-only (archiving fails, lag grows
// past the RPO), a WAL segment deleted, one flipped byte (verify), a backup older than
// its schedule allows, the backup host unreachable.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestLab } from "../hosts/hosts.ts";
import { startPgPair, type PgPair } from "./pg-pair.ts";
import { REPO, changedCount, type JsonReport, type LabRun, type TestProject } from "./project.ts";

const CIPHER_PASS = "repo2-Cipher-backup-test-7c1e90";
const POLICY = `
defaults: { rto: 2h, drill_every: 90d, timezone: UTC }
postgres:
  db1-main:
    host: db1
    stanza: main
    rpo: 30s
    schedule: { full: "0 1 * * 0", diff: "0 1 * * 1-6" }
    repositories:
      local: { repo: 1, retention: { full: 2, diff: 6 } }
      offsite: { repo: 2, host: backup1, encryption_key: pgbackrest_repo2_cipher_pass, retention: { full: 2, diff: 6 } }
`;
const PLAYBOOK = `
import { definePlaybook } from "@lab";
import { base } from "${join(REPO, "roles/base.ts")}";
import { postgres, postgresDefaults } from "${join(REPO, "roles/postgres.ts")}";
import { pgbackrestPolicyPlays } from "${join(REPO, "roles/pgbackrest-policy.ts")}";
export default definePlaybook({
  name: "backups",
  plays: [
    { name: "base", hosts: "all", roles: () => [base({ domain: "home.arpa", note: "lab backup test", admins: [] })] },
    { name: "postgres", hosts: "databases", roles: (h) => [postgres({ ...postgresDefaults, listenAddresses: h.connection.address })] },
    ...pgbackrestPolicyPlays({ target: "db1-main", hosts: "databases:backup_hosts" }),
  ],
});
`;

let lab: TestLab;
let p: TestProject;
let env: Record<string, string>;
let on: PgPair["on"];
const outputs: string[] = [];
const keep = (r: LabRun): LabRun => (outputs.push(r.stdout, r.stderr), r);
const backup = async (...args: string[]) => keep(await p.lab(["backup", ...args], { env, timeoutMs: 300_000 }));
const psql = (sql: string) => on("db1", `runuser -u postgres -- psql -XAtq -c "${sql}"`);

beforeAll(async () => {
  ({ lab, p, env, on } = await startPgPair({
    prefix: "lab-it-backup",
    subnet: "127.0.41",
    stateDir: ".lab/lab-it-backup",
    hosts: { db1: { vars: { stateful: true } } },
    files: { "playbooks/site.ts": PLAYBOOK, "backups/policy.yaml": POLICY },
    cipherPass: CIPHER_PASS,
  }));
}, 900_000);

afterAll(async () => {
  if (process.env.LAB_KEEP_HOSTS !== "1") await lab?.stop();
});

describe("lab backup on real PostgreSQL + pgBackRest", { timeout: 600_000 }, () => {
  it("the policy configures archiving to both repositories; the second apply changes nothing", async () => {
    const first = keep(await p.lab(["apply", "-y", "--json"], { env, timeoutMs: 600_000 }));
    expect(first.code, first.stderr).toBe(0);
    // The policy's RPO is PostgreSQL's archive_timeout.
    expect(await psql("select current_setting('archive_timeout')")).toBe("30s");
    const again = keep(await p.lab(["apply", "-y", "--json"], { env, timeoutMs: 600_000 }));
    expect(again.code).toBe(0);
    expect(changedCount(JSON.parse(again.stdout) as JsonReport)).toBe(0);
  });

  it("without backups the check breaches; --run takes them and the check is green", async () => {
    const none = await backup();
    expect(none.code, none.stdout + none.stderr).toBe(6);
    expect(none.stdout).toContain("db1-main: repository local has no valid backup: run `lab backup --run`");
    const ran = await backup("--run");
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    expect(ran.stderr).toContain("db1-main: running a full backup into offsite (repo2)");
    expect(ran.stdout).toContain("every target meets its policy (1 checked)");
    expect(ran.stdout).toMatch(/db1-main +offsite \(repo2 on backup1\) +\d{8}-\d{6}F +/);
    const json = await backup("--json");
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as {
      ok: boolean;
      format_version: number;
      targets: { repos: { repo: string; verdict: string }[] }[];
    };
    expect(report).toMatchObject({ ok: true, format_version: 1 });
    expect(report.targets[0]!.repos.map((r) => [r.repo, r.verdict])).toEqual([
      ["local", "ok"],
      ["offsite", "ok"],
    ]);
    const prom = await readFile(join(p.root, ".lab/metrics/lab-backup.prom"), "utf8");
    expect(prom).toMatch(
      /^lab_backup_last_success_timestamp_seconds\{target="db1-main",kind="postgres",repository="offsite"\} \d+$/m,
    );
    expect(prom).toContain('lab_backup_rpo_seconds{target="db1-main",kind="postgres",repository="offsite"} 30');
    expect(prom).toContain('lab_backup_ok{target="db1-main",kind="postgres"} 1');
    const audit = (await readFile(join(p.root, ".lab/audit.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { argv: string[]; outcome: string });
    expect(audit.filter((a) => a.argv.includes("backup")).map((a) => a.outcome)).toEqual(["failed", "ok", "ok"]);
  });

  it("a backup older than its schedule allows is a breach", async () => {
    const later = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const r = await backup("--as-of", later);
    expect(r.code).toBe(6);
    expect(r.stdout).toMatch(
      /db1-main: the newest backup in local \(\d{8}-\d{6}F\) is 3d\S* old; its schedule allows 1d1h/,
    );
  });

  it("one flipped byte in a backup file: lab backup verify names the damaged backup", async () => {
    const ok = await backup("verify");
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain("every repository verified intact");
    const file = await on(
      "db1",
      "find /var/lib/pgbackrest/backup/main -path '*pg_data/base/*' -type f -size +8k | head -1",
    );
    await on(
      "db1",
      `cp ${file} /tmp/lab-flip.bak && printf '\\377' | dd of=${file} bs=1 seek=100 conv=notrunc 2>/dev/null`,
    );
    try {
      const bad = await backup("verify");
      expect(bad.code).toBe(6);
      expect(bad.stdout).toMatch(
        /db1-main {2}local {2}DAMAGED: backup: \d{8}-\d{6}F is invalid; backup: \d{8}-\d{6}F: 1 with a wrong checksum/,
      );
    } finally {
      await on("db1", `cp /tmp/lab-flip.bak ${file}`);
    }
  });

  it("a WAL segment deleted from the offsite repository is named", async () => {
    await psql(
      "create table if not exists t (x int); insert into t select generate_series(1, 1000); select pg_switch_wal()",
    );
    await backup("--run"); // nothing due, but the archive moves on
    const dir = "/var/lib/pgbackrest/archive/main/15-1/0000000100000000";
    // A segment inside the range restores need (oldest backup's start .. archive end): the one
    // before the newest. One before the first backup is no gap: no restore reads it.
    const seg = await on("backup1", `ls ${dir} | grep -v backup | tail -n 2 | head -n 1`);
    await on("backup1", `mv ${dir}/${seg} /tmp/${seg}`);
    try {
      const r = await backup();
      expect(r.code).toBe(6);
      expect(r.stdout).toContain(
        `db1-main: repository offsite is missing WAL ${seg.slice(0, 24)}: restores stop before them`,
      );
    } finally {
      await on("backup1", `mv /tmp/${seg} ${dir}/${seg}`);
    }
  });

  it("the offsite repository read-only: archiving fails and the lag grows past the RPO", async () => {
    await on("backup1", "chmod -R a-w /var/lib/pgbackrest/archive");
    try {
      await psql("insert into t select generate_series(1, 1000); select pg_switch_wal()");
      // The RPO is 30 s: wait until the unarchived segment is older than that.
      await new Promise((r) => setTimeout(r, 40_000));
      const r = await backup();
      expect(r.code).toBe(6);
      expect(r.stdout).toContain("db1-main: WAL archiving is FAILING on db1");
      expect(r.stdout).toMatch(/db1-main: WAL archive lag \S+ exceeds the rpo 30s/);
      expect(r.stdout).toMatch(/db1-main: pgbackrest check failed \(exit \d+\)/);
    } finally {
      await on("backup1", "chmod -R u+w /var/lib/pgbackrest/archive");
    }
    // Archiving catches up by itself once the repository is writable again.
    const deadline = Date.now() + 90_000;
    let last: LabRun | undefined;
    while (Date.now() < deadline) {
      last = await backup();
      if (last.code === 0) break;
      await new Promise((r) => setTimeout(r, 5000));
    }
    expect(last?.code, last?.stdout).toBe(0);
  });

  it("the backup host unreachable: a breach naming the offsite repository", async () => {
    await lab.stopHost("backup1");
    const r = await backup();
    expect(r.code).toBe(6);
    expect(r.stdout).toMatch(/db1-main: .*(offsite|repo2)/);
    expect(r.stdout).not.toContain("every target meets its policy");
  });

  it("never shows the repository passphrase", async () => {
    outputs.push(
      await readFile(join(p.root, ".lab/audit.jsonl"), "utf8"),
      await readFile(join(p.root, ".lab/backup/status.json"), "utf8"),
    );
    for (const out of outputs) expect(out).not.toContain(CIPHER_PASS);
  });
});
