// The postgres and pgbackrest roles expanded for a database host and a backup
// host (pure: nothing contacted), rendering the project's real templates.
import { join } from "node:path";
import { NO_POLICY } from "../../../src/backup/policy.ts";
import { describe, expect, it } from "vitest";
import type { Playbook, RoleTools } from "../../../src/engine/playbook.ts";
import { expandPlaybook } from "../../../src/engine/steps.ts";
import { LabError } from "../../../src/errors.ts";
import type { ConfWant } from "../../../src/resources/pgbackrest/conf.ts";
import type { StanzaWant } from "../../../src/resources/pgbackrest/stanza.ts";
import type { RunningWant } from "../../../src/resources/postgres/settings.ts";
import { templateRenderer } from "../../../src/engine/template.ts";
import { Secret, isSecret } from "../../../src/secrets/secret.ts";
import { postgres, postgresDefaults } from "../../../roles/postgres.ts";
import { pgbackrestDefaults, pgbackrestPlays, type PgbackrestVars } from "../../../roles/pgbackrest.ts";
import { inventoryOf } from "../helpers/inventory.ts";

const REPO = join(import.meta.dirname, "../../..");
const PASS = "cipher-pass-7e1d-never-shown";
const inv = inventoryOf({
  "hosts.yaml":
    "connection: { port: 2222 }\nhosts:\n  db1: { address: 10.0.0.2 }\n  backup1: { address: 10.0.0.3, port: 22 }\n  web1: { address: 10.0.0.4 }\n",
});
const tools: RoleTools = {
  backups: NO_POLICY,
  root: REPO,
  template: templateRenderer(REPO),
  secret: (n) => new Secret(n, PASS),
  lab: inv.lab,
  vmKeys: (vm) => inv.vmKeys(vm),
  hosts: inv.hosts,
};
const vars = (over: Partial<PgbackrestVars> = {}): PgbackrestVars => ({
  ...pgbackrestDefaults,
  dbHost: "db1",
  backupHost: "backup1",
  ...over,
});
const playbook = (v: PgbackrestVars, hosts = "db1:backup1"): Playbook => ({
  name: "pg",
  plays: [
    { name: "postgres", hosts: "db1", roles: () => [postgres(postgresDefaults)] },
    ...pgbackrestPlays({ hosts, vars: () => v }),
  ],
});
const expand = (v: PgbackrestVars, hosts?: string) =>
  expandPlaybook(playbook(v, hosts), "/project/playbooks/site.ts", inv, {}, tools);
const ids = (v: PgbackrestVars, play: number, host: string) =>
  expand(v)
    [play]!.hosts.find((h) => h.host === host)!
    .steps.map((s) => s.resource.id);
const step = (v: PgbackrestVars, play: number, host: string, id: string) =>
  expand(v)
    [play]!.hosts.find((h) => h.host === host)!
    .steps.find((s) => s.resource.id === id)!.resource;
const conf = (v: PgbackrestVars, host: string, cores = 4) => {
  const c = (step(v, 1, host, "pgbackrest-conf:/etc/pgbackrest/pgbackrest.conf").want as ConfWant).render(cores);
  expect(isSecret(c)).toBe(true); // it holds the passphrase: 0600, never shown
  return (c as Secret).reveal();
};
/** A bad-input LabError (exit 2) whose message matches. */
const badInput = (message: RegExp) =>
  expect.objectContaining({
    constructor: LabError,
    code: 2,
    message: expect.stringMatching(message) as string,
  }) as unknown as Error;

describe("postgres role", () => {
  it("writes createcluster.conf BEFORE installing the package, then the cluster, conf.d and the live settings", () => {
    expect(ids(vars(), 0, "db1")).toEqual([
      "directory:/etc/postgresql-common",
      "file:/etc/postgresql-common/createcluster.conf",
      "packages:present:postgresql-15",
      "pg-cluster:15/main",
      "directory:/etc/postgresql/15/main/conf.d",
      "line:/etc/postgresql/15/main/postgresql.conf:^include_dir\\s*=\\s*'conf\\.d'",
      "file:/etc/postgresql/15/main/conf.d/lab.conf",
      "pg-running:15/main",
    ]);
    expect((step(vars(), 0, "db1", "pg-running:15/main").want as RunningWant).settings).toEqual({
      listen_addresses: "localhost",
      port: "5432",
    });
  });
});

describe("pgbackrest roles", () => {
  it("gives each host its side: repo1 + archiving on the database host, repo2 + its own user on the backup host", () => {
    expect(ids(vars(), 1, "db1")).toEqual([
      "packages:present:openssh-client,pgbackrest",
      "directory:/etc/pgbackrest",
      "directory:/var/lib/pgbackrest",
      "directory:/var/log/pgbackrest",
      "directory:/var/spool/pgbackrest",
      "directory:/var/lib/postgresql/.ssh",
      "command:ssh-keygen for postgres (pgBackRest's SSH key)",
      "pgbackrest-conf:/etc/pgbackrest/pgbackrest.conf",
      "scheduled-job:pgbackrest-main-repo1-full",
      "scheduled-job:pgbackrest-main-repo1-diff",
    ]);
    expect(ids(vars(), 1, "backup1")).toContain("user:pgbackrest");
    expect(ids(vars(), 1, "backup1")).toContain("scheduled-job:pgbackrest-main-repo2-full");
    expect(ids(vars(), 2, "db1")).toEqual(["ssh-trust:postgres<-pgbackrest@backup1"]);
    expect(ids(vars(), 2, "backup1")).toEqual(["ssh-trust:pgbackrest<-postgres@db1"]);
    expect(ids(vars(), 3, "db1")).toEqual([
      "file:/etc/postgresql/15/main/conf.d/pgbackrest.conf",
      "pg-running:15/main",
      "pgbackrest-stanza:main",
    ]);
    expect(ids(vars(), 3, "backup1")).toEqual([]);
  });

  it("archive_timeout is the RPO; archive_command pushes through pgBackRest", () => {
    expect((step(vars({ rpoSeconds: 60 }), 3, "db1", "pg-running:15/main").want as RunningWant).settings).toEqual({
      archive_command: "pgbackrest --stanza=main archive-push %p",
      archive_mode: "on",
      archive_timeout: "60",
    });
  });

  it("renders the database host's pgbackrest.conf: repo1 local, repo2 on the backup host over SSH, async archiving, zstd, process-max from the cores", () => {
    const text = conf(vars({ archivePushTimeoutSeconds: 90 }), "db1", 4);
    for (const l of [
      "repo1-path=/var/lib/pgbackrest",
      "repo1-retention-full=2",
      "repo1-retention-diff=6",
      "repo2-host=10.0.0.3",
      "repo2-host-user=pgbackrest",
      "repo2-cipher-type=aes-256-cbc",
      `repo2-cipher-pass=${PASS}`,
      "archive-async=y",
      "spool-path=/var/spool/pgbackrest",
      "archive-timeout=90",
      "compress-type=zst",
      "process-max=2",
      "[main]",
      "pg1-path=/var/lib/postgresql/15/main",
      "pg1-port=5432",
    ])
      expect(text.split("\n")).toContain(l);
    expect(text).not.toContain("repo2-host-port"); // the backup host's SSH port is 22
    expect(text).not.toMatch(/^archive-push-queue-max/m);
    expect(conf(vars(), "db1", 1)).toContain("process-max=1\n");
  });

  it("renders the backup host's pgbackrest.conf: repo2 local and encrypted, pg1-host pointing back over SSH", () => {
    const text = conf(vars({ repo2: { ...pgbackrestDefaults.repo2, retentionArchive: 2 } }), "backup1", 8);
    for (const l of [
      "repo2-path=/var/lib/pgbackrest",
      "repo2-retention-full=4",
      "repo2-retention-archive=2",
      "repo2-cipher-type=aes-256-cbc",
      `repo2-cipher-pass=${PASS}`,
      "process-max=4",
      "pg1-host=10.0.0.2",
      "pg1-host-port=2222",
      "pg1-host-user=postgres",
    ])
      expect(text.split("\n")).toContain(l);
    expect(text).not.toMatch(/^repo1-/m);
  });

  it("a changed retention changes the config file, not what the last passing check stands for", () => {
    const key = (v: PgbackrestVars) => (step(v, 3, "db1", `pgbackrest-stanza:${v.stanza}`).want as StanzaWant).checkKey;
    const more = vars({ repo1: { ...pgbackrestDefaults.repo1, retentionFull: 5 } });
    expect(key(more)).toBe(key(vars()));
    expect(conf(more, "db1")).not.toBe(conf(vars(), "db1"));
    expect(key(vars({ stanza: "other" }))).not.toBe(key(vars()));
  });

  it("never drops WAL unless the vars say so", () => {
    expect(() => expand(vars({ archivePushQueueMax: "4GiB" }))).toThrow(badInput(/archivePushQueueMax drops WAL/));
    expect(conf(vars({ archivePushQueueMax: "4GiB", acceptWalLoss: true }), "db1")).toMatch(
      /^archive-push-queue-max=4GiB$/m,
    );
  });

  it("refuses bad arrangements and bad vars before any host is contacted (exit 2)", () => {
    expect(() => expand(vars({ backupHost: "db1" }))).toThrow(badInput(/dbHost and backupHost are both db1/));
    expect(() => expand(vars(), "db1:backup1:web1")).toThrow(badInput(/web1 is neither dbHost/));
    expect(() => expand(vars({ backupHost: "nowhere" }), "db1")).toThrow(
      badInput(/backupHost nowhere is not in the inventory/),
    );
    expect(() => expand(vars({ rpoSeconds: 5 }))).toThrow(badInput(/vars\.rpoSeconds: must be >= 30/));
    expect(() => expand(vars({ repo1: { ...pgbackrestDefaults.repo1, fullSchedule: "every sunday" } }))).toThrow(
      badInput(/five cron fields/),
    );
  });
});
