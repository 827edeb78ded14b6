// The pgbackrest roles driven by backups/policy.yaml: a postgres target's RPO
// (archive_timeout), schedules, repositories (repo1 on the database host, repo2
// on a backup host), retention and encryption key become the roles' vars, so the
// policy is written once and `lab backup` checks exactly what was configured.
//   plays: [...pgbackrestPolicyPlays({ target: "db1-main" })]
import { Type, defineRole, type Play, type RoleTools, badInput, type PgPolicy } from "lab";
import {
  pgbackrest,
  pgbackrestDefaults,
  pgbackrestStanza,
  pgbackrestTrust,
  type PgbackrestVars,
} from "./pgbackrest.ts";

/** "30 1 * * 0" an hour later ("30 2 * * 0"): repo2's backups start after repo1's. */
const hourLater = (cron: string) =>
  cron.replace(/^(\S+)\s+(\d+)(\s)/, (_m, min: string, h: string, sp: string) => `${min} ${(Number(h) + 1) % 24}${sp}`);

export function pgbackrestVarsFromPolicy(t: PgPolicy): PgbackrestVars {
  const where = `postgres target ${t.name}`;
  const local = t.repositories.find((r) => r.host === undefined);
  const remote = t.repositories.find((r) => r.host !== undefined);
  if (!local || !remote || t.repositories.length !== 2 || local.index !== 1 || remote.index !== 2) {
    throw badInput(
      `${where}: the pgbackrest role manages repo 1 on the database host and repo 2 on a backup host`,
      {},
      "declare exactly those two repositories (repo: 1 without host, repo: 2 with host:)",
    );
  }
  if (!remote.encryptionKey)
    throw badInput(
      `${where}: repository ${remote.name} on ${remote.host} needs encryption_key`,
      {},
      "name a secret holding its passphrase (lab secrets set NAME)",
    );
  if (!t.schedule.diff)
    throw badInput(
      `${where}: schedule.diff is missing`,
      {},
      'add a cron expression for the differential backups, e.g. "0 1 * * 1-6"',
    );
  if (t.rpoSec < 30)
    throw badInput(
      `${where}: rpo ${t.rpoSec}s is below the 30 s the role sets as archive_timeout's floor`,
      {},
      "use rpo: 30s or more",
    );
  const [version, cluster] = t.cluster.split("/") as [string, string];
  return {
    ...pgbackrestDefaults,
    stanza: t.stanza,
    dbHost: t.host,
    backupHost: remote.host!,
    pgVersion: Number(version),
    pgCluster: cluster,
    rpoSeconds: t.rpoSec,
    cipherPassSecret: remote.encryptionKey,
    backupUser: remote.user,
    repo1: {
      path: local.path,
      retentionFull: local.retention.full,
      retentionDiff: local.retention.diff ?? pgbackrestDefaults.repo1.retentionDiff,
      fullSchedule: t.schedule.full,
      diffSchedule: t.schedule.diff,
    },
    repo2: {
      path: remote.path,
      retentionFull: remote.retention.full,
      retentionDiff: remote.retention.diff ?? pgbackrestDefaults.repo2.retentionDiff,
      fullSchedule: hourLater(t.schedule.full),
      diffSchedule: hourLater(t.schedule.diff),
    },
    ...(t.acceptWalLoss ? { acceptWalLoss: true } : {}),
  };
}

const Target = Type.Object(
  {
    /** A postgres target of backups/policy.yaml. */
    target: Type.String(),
  },
  { additionalProperties: false },
);

function targetOf(tools: RoleTools, name: string): PgPolicy {
  const t = tools.backups.postgres.find((x) => x.name === name);
  if (!t)
    throw badInput(
      `no postgres target "${name}" in ${tools.backups.file ?? "backups/policy.yaml"}`,
      {},
      `targets: ${tools.backups.postgres.map((x) => x.name).join(", ") || "(none)"}`,
    );
  return t;
}

/** One of the three pgbackrest roles, with its vars from the policy target. */
function fromPolicy(inner: typeof pgbackrest, name: string) {
  return defineRole({
    name,
    vars: Target,
    resources: (v, host, tools) => {
      const use = inner(pgbackrestVarsFromPolicy(targetOf(tools, v.target)));
      return use.expand(use.vars, host, tools);
    },
  });
}

export const pgbackrestFromPolicy = fromPolicy(pgbackrest, "pgbackrest");
export const pgbackrestTrustFromPolicy = fromPolicy(pgbackrestTrust, "pgbackrest-trust");
export const pgbackrestStanzaFromPolicy = fromPolicy(pgbackrestStanza, "pgbackrest-stanza");

/** The three plays (each needs the previous one done on both hosts), on the target's database and backup hosts. */
export function pgbackrestPolicyPlays(o: { target: string; hosts: string }): Play[] {
  return [
    { name: "pgbackrest", hosts: o.hosts, roles: () => [pgbackrestFromPolicy({ target: o.target })] },
    { name: "pgbackrest trust", hosts: o.hosts, roles: () => [pgbackrestTrustFromPolicy({ target: o.target })] },
    { name: "pgbackrest stanza", hosts: o.hosts, roles: () => [pgbackrestStanzaFromPolicy({ target: o.target })] },
  ];
}
