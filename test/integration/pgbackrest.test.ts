// PostgreSQL 15 + pgBackRest 2.45 (Debian's packages, the real thing) on two
// test hosts over SSH: a database host (repo1) and a separate backup host
// (repo2, pgBackRest's repository host, encrypted). The roles are applied by the
// real CLI; what they did is checked inside the hosts, independently of lab.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestLab } from "../hosts/hosts.ts";
import { startPgPair, type PgPair } from "./pg-pair.ts";
import { REPO, changedCount, type JsonReport, type LabRun, type TestProject } from "./project.ts";

const CIPHER_PASS = "repo2-Cipher-9d1f3a7c-Pass-e5b2";

const PLAYBOOK = `
import { definePlaybook } from "@lab";
import { base } from "${join(REPO, "roles/base.ts")}";
import { postgres, postgresDefaults } from "${join(REPO, "roles/postgres.ts")}";
import { pgbackrestDefaults, pgbackrestPlays } from "${join(REPO, "roles/pgbackrest.ts")}";

// Retention comes from host vars here, so a test can change it with -e.
const vars = (h) => ({
  ...pgbackrestDefaults,
  dbHost: "db1",
  backupHost: "backup1",
  // A failing check (the fault test) then gives up after 30 s rather than the default 60 s.
  archivePushTimeoutSeconds: 30,
  repo1: { ...pgbackrestDefaults.repo1, retentionFull: Number(h.vars.repo1_full ?? 2) },
});

export default definePlaybook({
  name: "pg",
  plays: [
    // As in the example lab: every server gets the base role first (it runs cron, which runs the schedules).
    { name: "base", hosts: "all", roles: () => [base({ domain: "home.arpa", note: "pgBackRest test", admins: [] })] },
    // The cluster listens on its host's own loopback address only (the hosts share the machine's network).
    { name: "postgres", hosts: "databases", roles: (h) => [postgres({ ...postgresDefaults, listenAddresses: h.connection.address })] },
    ...pgbackrestPlays({ hosts: "databases:backup_hosts", vars }),
  ],
});
`;

// An existing cluster without data checksums, for the refusal test.
const NOSUMS = `
import { definePlaybook } from "@lab";
import { postgres, postgresDefaults } from "${join(REPO, "roles/postgres.ts")}";
export default definePlaybook({
  name: "nosums",
  plays: [{ name: "postgres", hosts: "databases", roles: (h) => [postgres({ ...postgresDefaults, cluster: "nosums", port: 5433, listenAddresses: h.connection.address })] }],
});
`;

let lab: TestLab;
let p: TestProject;
let env: Record<string, string>;
let on: PgPair["on"];
const outputs: string[] = [];
const keep = (r: LabRun): LabRun => (outputs.push(r.stdout, r.stderr), r);
const applyJson = async (args: string[] = []) => {
  const r = keep(await p.lab(["apply", "-y", "--json", ...args], { env, timeoutMs: 600_000 }));
  let report: JsonReport;
  try {
    report = JSON.parse(r.stdout) as JsonReport;
  } catch {
    throw new Error(`no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { run: r, report };
};
const changed = (r: JsonReport) => r.steps.filter((s) => s.status === "changed").map((s) => `${s.host} ${s.id}`);
const failures = (r: JsonReport) =>
  JSON.stringify(
    r.steps.filter((s) => s.status !== "ok" && s.status !== "changed"),
    null,
    1,
  );

interface Info {
  name: string;
  archive: { database: { "repo-key": number }; max: string }[];
  backup: { type: string; database: { "repo-key": number } }[];
  repo: { key: number; cipher: string; status: { code: number } }[];
}
const info = async (name: string, user: string): Promise<Info> =>
  (JSON.parse(await on(name, `runuser -u ${user} -- pgbackrest --stanza=main --output=json info`)) as Info[])[0]!;
const psql = (sql: string) => on("db1", `runuser -u postgres -- psql -XAtq -c "${sql}"`);
/** The command line of a cron entry written by the role (what cron would run), and its user. */
const cronJob = async (host: string, name: string) => {
  const line = (await on(host, `cat /etc/cron.d/${name}`)).split("\n").find((l) => /^[0-9*]/.test(l))!;
  const f = line.split(/\s+/);
  return { user: f[5]!, command: f.slice(6).join(" ").replaceAll("\\%", "%") };
};

beforeAll(async () => {
  ({ lab, p, env, on } = await startPgPair({
    prefix: "lab-it-pg",
    subnet: "127.0.37",
    stateDir: ".lab/lab-it-pg",
    files: { "playbooks/site.ts": PLAYBOOK, "playbooks/nosums.ts": NOSUMS },
    cipherPass: CIPHER_PASS,
  }));
}, 900_000);

afterAll(async () => {
  if (process.env.LAB_KEEP_HOSTS !== "1") await lab?.stop();
});

describe("PostgreSQL 15 + pgBackRest: database host and separate backup host", { timeout: 600_000 }, () => {
  it("plans on fresh hosts without changing anything", async () => {
    const plan = keep(await p.lab(["plan"], { env, timeoutMs: 300_000 }));
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout).toContain("create cluster 15/main on port 5432 with data checksums");
    expect(plan.stdout).toMatch(/authorize pgbackrest@backup1 .*known after apply/);
    expect(
      await on("db1", "pg_lsclusters -h | wc -l; id pgbackrest >/dev/null 2>&1 && echo user || echo no-user"),
    ).toBe("0\nno-user");
    expect(await on("backup1", "id pgbackrest >/dev/null 2>&1 && echo user || echo no-user")).toBe("no-user");
  });

  it("applies: a checksummed cluster archiving to a local and an encrypted remote repository", async () => {
    const first = await applyJson();
    expect(first.run.code, failures(first.report) + first.run.stderr).toBe(0);
    expect(await on("db1", "pg_lsclusters -h")).toMatch(/^15 main 5432 online postgres/);
    expect(
      await on(
        "db1",
        "/usr/lib/postgresql/15/bin/pg_controldata /var/lib/postgresql/15/main | grep 'checksum version'",
      ),
    ).toMatch(/: +1$/);
    expect(
      await psql(
        "select current_setting('archive_mode'), current_setting('archive_command'), current_setting('archive_timeout')",
      ),
    ).toBe("on|pgbackrest --stanza=main archive-push %p|1min");
    // Both configs hold the passphrase: 0600, owned by the user pgBackRest runs as.
    expect(await on("db1", "stat -c '%a %U' /etc/pgbackrest/pgbackrest.conf")).toBe("600 postgres");
    expect(await on("backup1", "stat -c '%a %U' /etc/pgbackrest/pgbackrest.conf /var/lib/pgbackrest")).toBe(
      "600 pgbackrest\n750 pgbackrest",
    );
    const dbConf = await on("db1", "cat /etc/pgbackrest/pgbackrest.conf");
    expect(dbConf).toContain("repo2-host=127.0.37.3\nrepo2-host-port=2222\nrepo2-host-user=pgbackrest");
    expect(dbConf).toContain("archive-async=y\nspool-path=/var/spool/pgbackrest");
    expect(dbConf).toContain("\narchive-timeout=30\n");
    expect(dbConf).toContain("compress-type=zst\nprocess-max=1"); // 2 cores here: half of them
    expect(dbConf).not.toContain("archive-push-queue-max");
    expect(await on("backup1", "cat /etc/pgbackrest/pgbackrest.conf")).toContain(
      "pg1-host=127.0.37.2\npg1-host-port=2222\npg1-host-user=postgres",
    );
    // Host keys are the ones lab pinned (no trust on first use): exactly the test hosts' keys.
    const backupKey = lab.hosts.find((h) => h.name === "backup1")!.hostKeyPub;
    expect(await on("db1", "cat /var/lib/postgresql/.ssh/known_hosts")).toContain(`[127.0.37.3]:2222 ${backupKey}`);
    // The stanza exists on both repositories; repo2 is encrypted, on disk too.
    const i = await info("db1", "postgres");
    expect(i.repo.map((r) => [r.key, r.cipher, r.status.code])).toEqual([
      [1, "none", 2],
      [2, "aes-256-cbc", 2],
    ]);
    expect(await on("backup1", "head -c 8 /var/lib/pgbackrest/archive/main/archive.info")).toBe("Salted__");
    // The schedules: cron entries (no systemd here), and cron running to run them.
    for (const [host, repo] of [
      ["db1", 1],
      ["backup1", 2],
    ] as const) {
      expect(await on(host, "ls /etc/cron.d | grep pgbackrest")).toBe(
        `pgbackrest-main-repo${repo}-diff\npgbackrest-main-repo${repo}-full`,
      );
      expect(await on(host, "/etc/init.d/cron status >/dev/null && echo running")).toBe("running");
    }
  });

  it("a forced WAL switch reaches BOTH repositories", async () => {
    const segment = await psql(
      "create table if not exists t (x int); insert into t values (1); select pg_walfile_name(pg_switch_wal())",
    );
    const deadline = Date.now() + 60_000;
    let maxes: string[] = [];
    while (Date.now() < deadline) {
      const i = await info("db1", "postgres");
      maxes = [1, 2].map((k) => i.archive.find((a) => a.database["repo-key"] === k)?.max ?? "");
      if (maxes.every((m) => m >= segment.split("\n").pop()!)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(
      maxes.every((m) => m >= segment.split("\n").pop()!),
      `${segment} vs ${maxes.join(",")}`,
    ).toBe(true);
    // And on the backup host, by its own view of repo2.
    expect((await info("backup1", "pgbackrest")).archive[0]!.max >= segment.split("\n").pop()!).toBe(true);
    await on("db1", "runuser -u postgres -- pgbackrest --stanza=main check");
  });

  it("the scheduled full and differential backups complete on both repositories (run as cron would run them)", async () => {
    for (const [host, repo] of [
      ["db1", 1],
      ["backup1", 2],
    ] as const) {
      for (const type of ["full", "diff"]) {
        const job = await cronJob(host, `pgbackrest-main-repo${repo}-${type}`);
        expect(job.command).toBe(`pgbackrest --stanza=main --repo=${repo} --type=${type} backup`);
        await on(host, `runuser -u ${job.user} -- sh -c '${job.command}'`);
      }
    }
    const i = await info("db1", "postgres");
    const byRepo = (k: number) => i.backup.filter((b) => b.database["repo-key"] === k).map((b) => b.type);
    expect(byRepo(1)).toEqual(["full", "diff"]);
    expect(byRepo(2)).toEqual(["full", "diff"]);
    expect(i.repo.map((r) => r.status.code)).toEqual([0, 0]);
    // The backup host reads (decrypts) every WAL segment and backup file of repo2.
    await on("backup1", "runuser -u pgbackrest -- pgbackrest --stanza=main verify");
  });

  it("a second apply changes nothing", async () => {
    const again = await applyJson();
    expect(again.run.code, failures(again.report)).toBe(0);
    expect(changed(again.report)).toEqual([]);
    expect(changedCount(again.report)).toBe(0);
  });

  it("a changed retention changes only the config file", async () => {
    const r = await applyJson(["-e", "repo1_full=3"]);
    expect(r.run.code, failures(r.report)).toBe(0);
    expect(changed(r.report)).toEqual(["db1 pgbackrest-conf:/etc/pgbackrest/pgbackrest.conf"]);
    const diff = r.report.steps.find((s) => s.status === "changed")!.changes[0]!;
    expect(diff.summary).toContain("(secret content)");
    expect(await on("db1", "grep retention-full /etc/pgbackrest/pgbackrest.conf")).toBe("repo1-retention-full=3");
    expect(changedCount((await applyJson(["-e", "repo1_full=3"])).report)).toBe(0);
  });

  it("an archive that stops reaching repo2 fails the apply (pgbackrest check), and converges again once fixed", async () => {
    const archive = "/var/lib/pgbackrest/archive/main";
    await on("backup1", `chmod -R a-w ${archive}`);
    try {
      await psql("insert into t values (2); select pg_switch_wal()");
      const deadline = Date.now() + 90_000;
      while (
        Date.now() < deadline &&
        (await psql(
          "select failed_count > 0 and last_failed_time > coalesce(last_archived_time, 'epoch') from pg_stat_archiver",
        )) !== "t"
      ) {
        await new Promise((r) => setTimeout(r, 500));
      }
      const plan = keep(await p.lab(["plan"], { env, timeoutMs: 300_000 }));
      expect(plan.stdout).toContain(
        "pgbackrest check main (PostgreSQL's archiver reports that its last attempt failed)",
      );
      const r = await applyJson();
      expect(r.run.code).toBe(3);
      const failed = r.report.steps.find((s) => s.status === "failed")!;
      expect(failed.id).toBe("pgbackrest-stanza:main");
      expect(failed.reason).toMatch(/pgbackrest check main failed/);
      // pgBackRest says a segment did not arrive; lab adds why, from the async push on the database host.
      expect(failed.reason).toMatch(/PostgreSQL's archiver: last failed 0000/);
      expect(failed.reason, failed.reason).toMatch(/async archive-push: .*Permission denied/);
    } finally {
      await on("backup1", `chmod -R u+w ${archive}`);
    }
    const fixed = await applyJson();
    expect(fixed.run.code, failures(fixed.report)).toBe(0);
    expect(changed(fixed.report)).toEqual(["db1 pgbackrest-stanza:main"]);
    expect(changedCount((await applyJson()).report)).toBe(0);
  });

  it("refuses an existing cluster without data checksums, saying what to do", async () => {
    await on(
      "db1",
      "echo 'create_main_cluster = false' > /tmp/plain.conf && pg_createcluster --createclusterconf=/tmp/plain.conf 15 nosums -p 5433 >/dev/null",
    );
    try {
      const r = keep(await p.lab(["apply", "-y", "playbooks/nosums.ts", "--json"], { env, timeoutMs: 300_000 }));
      expect(r.code).toBe(3);
      const failed = (JSON.parse(r.stdout) as JsonReport).steps.find((s) => s.status === "failed")!;
      expect(failed.id).toBe("pg-cluster:15/nosums");
      expect(failed.reason).toContain("cluster 15/nosums exists WITHOUT data checksums");
      expect(r.stdout + r.stderr).toContain("pg_checksums --enable -D /var/lib/postgresql/15/nosums");
      expect(await on("db1", "pg_lsclusters -h | awk '$2 == \"nosums\" {print $4}'")).toBe("down");
    } finally {
      await on("db1", "pg_dropcluster 15 nosums");
    }
  });

  it("never shows the repository passphrase in any output", async () => {
    outputs.push(await readFile(join(p.root, ".lab/audit.jsonl"), "utf8"));
    for (const out of outputs) expect(out).not.toContain(CIPHER_PASS);
  });
});
