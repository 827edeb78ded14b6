// pgbackrest: WAL archiving and backups of one PostgreSQL cluster with
// pgBackRest (Debian's package), never a home-made archiver (ADR 0013).
//   repo1: on the database host, for fast restores;
//   repo2: on a SEPARATE backup host, in pgBackRest's repository-host
//          arrangement over SSH, encrypted (aes-256-cbc, passphrase from
//          `lab secrets`), so losing the database host loses no backup.
// The same vars go to both hosts; each host's side follows from its name. Three
// roles, one per play, because each needs the previous play done on BOTH hosts:
//   pgbackrest        packages, users, SSH keys, pgbackrest.conf, backup schedules
//   pgbackrestTrust   each side authorizes the other's key and pins its host key
//   pgbackrestStanza  archiving on in PostgreSQL, stanza-create, pgbackrest check
// pgbackrestPlays() returns the three plays in order. Details: docs/pgbackrest.md.
import { createHash } from "node:crypto";
import {
  Type,
  command,
  defineRole,
  directory,
  file,
  packages,
  sh,
  user,
  type HostInfo,
  type Play,
  type Resource,
  type RoleTools,
  type Static,
  badInput,
  pgbackrestConf,
  processMaxFor,
  sshTrust,
  pgbackrestStanza as stanzaResource,
  postgresRunning,
  scheduledJob,
} from "lab";
import { clusterPaths, sortedSettings } from "./postgres.ts";

const Int = (max: number, description?: string) =>
  Type.Integer({ minimum: 1, maximum: max, ...(description ? { description } : {}) });

export const RepoVars = Type.Object(
  {
    /** Repository directory on its host. */
    path: Type.String({ pattern: "^/[^\\n]*$", description: "Repository directory on its host." }),
    /** Full backups kept (older ones, and the WAL only they need, are expired after each backup). */
    retentionFull: Int(
      9999999,
      "Full backups kept (older ones, and the WAL only they need, are expired after each backup).",
    ),
    /** Differential backups kept. */
    retentionDiff: Int(9999999, "Differential backups kept."),
    /** Backups (full) whose WAL is kept; unset: the WAL of every retained backup (point-in-time recovery to any time since the oldest). */
    retentionArchive: Type.Optional(
      Int(9999999, "Backups (full) whose WAL is kept; unset: the WAL of every retained backup."),
    ),
    /** When the full and the differential backups run: five cron fields, host local time. */
    fullSchedule: Type.String({
      minLength: 9,
      description: "When the full backups run: five cron fields, host local time.",
    }),
    diffSchedule: Type.String({
      minLength: 9,
      description: "When the differential backups run: five cron fields, host local time.",
    }),
  },
  { additionalProperties: false },
);
export type RepoVars = Static<typeof RepoVars>;

const HostName = (description: string) => Type.String({ pattern: "^[A-Za-z0-9_.-]+$", description });
export const PgbackrestVars = Type.Object(
  {
    stanza: Type.String({ pattern: "^[A-Za-z0-9_-]+$" }),
    /** Inventory names of the database host and of the backup host (repo2's repository host). */
    dbHost: HostName("Inventory name of the database host."),
    backupHost: HostName("Inventory name of the backup host (repo2's repository host)."),
    /** Address the backup host reaches the database host at (default: its inventory address); likewise the other way. */
    dbAddress: Type.Optional(
      HostName("Address the backup host reaches the database host at (default: its inventory address)."),
    ),
    backupAddress: Type.Optional(
      HostName("Address the database host reaches the backup host at (default: its inventory address)."),
    ),
    pgVersion: Type.Integer({ minimum: 10, maximum: 99 }),
    pgCluster: Type.String({ pattern: "^[a-z0-9_-]+$" }),
    pgPort: Int(65535),
    /** Recovery point objective: PostgreSQL's archive_timeout, so a WAL segment is closed (and archived) at least this often. */
    rpoSeconds: Type.Integer({
      minimum: 30,
      maximum: 86400,
      description: "Recovery point objective: PostgreSQL's archive_timeout.",
    }),
    /** pgBackRest's archive-timeout: how long archive-push and check wait for a segment to be stored. */
    archivePushTimeoutSeconds: Int(
      86400,
      "pgBackRest's archive-timeout: how long archive-push and check wait for a segment to be stored.",
    ),
    repo1: RepoVars,
    repo2: RepoVars,
    /** Name of the repo2 passphrase in `lab secrets` (make it long and random; losing it loses repo2). */
    cipherPassSecret: Type.String({
      pattern: "^[A-Za-z0-9_.-]+$",
      description: "Name of the repo2 passphrase in lab secrets.",
    }),
    /** The user owning repo2 on the backup host. */
    backupUser: Type.String({
      pattern: "^[a-z_][a-z0-9_-]*$",
      description: "The user owning repo2 on the backup host.",
    }),
    /** Parallel processes; unset: half the host's cores (a fact), at least 1. */
    processMax: Type.Optional(Int(999, "Parallel processes; unset: half the host's cores, at least 1.")),
    /** archive-push-queue-max: DROPS WAL once this much is queued (e.g. "4GiB"). Only with acceptWalLoss. */
    archivePushQueueMax: Type.Optional(
      Type.String({
        pattern: "^[0-9]+(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)?$",
        description: "archive-push-queue-max: DROPS WAL once this much is queued. Only with acceptWalLoss.",
      }),
    ),
    /** Say yes to losing WAL (and point-in-time recovery across the gap) when the queue is full. */
    acceptWalLoss: Type.Optional(Type.Boolean({ description: "Say yes to losing WAL when the queue is full." })),
  },
  { additionalProperties: false },
);
export type PgbackrestVars = Static<typeof PgbackrestVars>;

/** What a lab uses unless told otherwise: RPO 60 s, weekly full + daily differential backups, repo2 an hour after repo1. */
export const pgbackrestDefaults = {
  stanza: "main",
  pgVersion: 15,
  pgCluster: "main",
  pgPort: 5432,
  rpoSeconds: 60,
  archivePushTimeoutSeconds: 60,
  backupUser: "pgbackrest",
  cipherPassSecret: "pgbackrest_repo2_cipher_pass",
  repo1: {
    path: "/var/lib/pgbackrest",
    retentionFull: 2,
    retentionDiff: 6,
    fullSchedule: "30 1 * * 0",
    diffSchedule: "30 1 * * 1-6",
  },
  repo2: {
    path: "/var/lib/pgbackrest",
    retentionFull: 4,
    retentionDiff: 6,
    fullSchedule: "30 2 * * 0",
    diffSchedule: "30 2 * * 1-6",
  },
} satisfies Omit<PgbackrestVars, "dbHost" | "backupHost">;

const DB_HOME = "/var/lib/postgresql";
const backupHome = (v: PgbackrestVars) => `/home/${v.backupUser}`;

interface Side {
  kind: "db" | "backup";
  peer: HostInfo;
}

/** Which side of the arrangement this host is, and the other host (bad input when neither). */
function sideOf(v: PgbackrestVars, host: HostInfo, lab: RoleTools): Side {
  if (v.dbHost === v.backupHost)
    throw badInput(
      `pgbackrest: dbHost and backupHost are both ${v.dbHost}`,
      {},
      "repo2 must live on a separate backup host",
    );
  if (v.archivePushQueueMax && v.acceptWalLoss !== true) {
    throw badInput(
      "pgbackrest: archivePushQueueMax drops WAL once the queue is full",
      {},
      "set acceptWalLoss: true to accept losing WAL (and point-in-time recovery across the gap), or remove archivePushQueueMax",
    );
  }
  const kind = host.name === v.dbHost ? "db" : host.name === v.backupHost ? "backup" : undefined;
  if (!kind)
    throw badInput(
      `pgbackrest: host ${host.name} is neither dbHost (${v.dbHost}) nor backupHost (${v.backupHost})`,
      {},
      "run the pgbackrest plays on exactly those two hosts",
    );
  const peerName = kind === "db" ? v.backupHost : v.dbHost;
  const peer = lab.hosts.get(peerName);
  if (!peer)
    throw badInput(`pgbackrest: ${kind === "db" ? "backupHost" : "dbHost"} ${peerName} is not in the inventory`);
  if (peer.connection.type !== "ssh")
    throw badInput(`pgbackrest: ${peerName} must be reached over SSH (it is ${peer.connection.type})`);
  return { kind, peer };
}

const archiveCommand = (v: PgbackrestVars) => `pgbackrest --stanza=${v.stanza} archive-push %p`;

/** The configuration a passing `check` stands for. Retention and process-max are not in it: they do not change what check proves. */
function checkKey(v: PgbackrestVars, lab: RoleTools): string {
  const peer = lab.hosts.get(v.backupHost);
  const facts = [
    v.stanza,
    archiveCommand(v),
    v.pgVersion,
    v.pgCluster,
    v.pgPort,
    v.repo1.path,
    v.repo2.path,
    v.backupAddress ?? peer?.connection.address,
    peer?.connection.port,
    v.backupUser,
  ];
  return createHash("sha256").update(JSON.stringify(facts)).digest("hex").slice(0, 16);
}

/** The command a backup schedule runs, as its repository's user on that repository's host (`lab backup --run` can run exactly this). */
export const backupCommand = (v: PgbackrestVars, repo: 1 | 2, type: "full" | "diff"): string =>
  sh`pgbackrest --stanza=${v.stanza} --repo=${repo} --type=${type} backup`;

export const pgbackrest = defineRole({
  name: "pgbackrest",
  vars: PgbackrestVars,
  resources: (v, host, lab) => {
    const side = sideOf(v, host, lab);
    const pg = clusterPaths({ version: v.pgVersion, cluster: v.pgCluster });
    const osUser = side.kind === "db" ? "postgres" : v.backupUser;
    const home = side.kind === "db" ? DB_HOME : backupHome(v);
    const repo = side.kind === "db" ? v.repo1 : v.repo2;
    const repoIdx = side.kind === "db" ? 1 : 2;
    const owned = (path: string) => directory({ path, mode: "0750", owner: osUser, group: osUser });
    const cipher = lab.secret(v.cipherPassSecret);
    const render = (cores: number) =>
      lab.template(side.kind === "db" ? "pgbackrest/db.conf.njk" : "pgbackrest/repo.conf.njk", {
        host: host.name,
        stanza: v.stanza,
        db_host: v.dbHost,
        backup_host: v.backupHost,
        backup_address:
          v.backupAddress ?? (side.kind === "db" ? side.peer.connection.address : host.connection.address),
        backup_port: side.kind === "db" ? side.peer.connection.port : host.connection.port,
        db_address: v.dbAddress ?? (side.kind === "backup" ? side.peer.connection.address : host.connection.address),
        db_port: side.kind === "backup" ? side.peer.connection.port : host.connection.port,
        backup_user: v.backupUser,
        repo1: v.repo1,
        repo2: v.repo2,
        cipher_pass: cipher,
        archive_push_timeout: v.archivePushTimeoutSeconds,
        archive_push_queue_max: v.archivePushQueueMax ?? "",
        process_max: v.processMax ?? processMaxFor(cores),
        pg_path: pg.data,
        pg_port: v.pgPort,
      });
    const resources: Resource[] = [
      packages({ names: ["pgbackrest", "openssh-client"] }),
      ...(side.kind === "backup" ? [user({ name: v.backupUser, system: true, home, shell: "/bin/sh" })] : []),
      directory({ path: "/etc/pgbackrest", mode: "0755" }),
      owned(repo.path),
      owned("/var/log/pgbackrest"),
      owned("/var/spool/pgbackrest"),
      directory({ path: `${home}/.ssh`, mode: "0700", owner: osUser, group: osUser }),
      command({
        command: sh`runuser -u ${osUser} -- ssh-keygen -q -t ed25519 -N ${""} -C ${`${osUser}@${host.name} (pgbackrest)`} -f ${`${home}/.ssh/id_ed25519`}`,
        creates: `${home}/.ssh/id_ed25519.pub`,
        description: `ssh-keygen for ${osUser} (pgBackRest's SSH key)`,
      }),
      pgbackrestConf({ path: "/etc/pgbackrest/pgbackrest.conf", owner: osUser, group: osUser, render }),
      ...(["full", "diff"] as const).map((type) =>
        scheduledJob({
          name: `pgbackrest-${v.stanza}-repo${repoIdx}-${type}`,
          description: `pgBackRest ${type} backup of stanza ${v.stanza} to repo${repoIdx}`,
          user: osUser,
          command: backupCommand(v, repoIdx, type),
          schedule: type === "full" ? repo.fullSchedule : repo.diffSchedule,
        }),
      ),
    ];
    return resources;
  },
});

export const pgbackrestTrust = defineRole({
  name: "pgbackrest-trust",
  vars: PgbackrestVars,
  resources: (v, host, lab) => {
    const side = sideOf(v, host, lab);
    return side.kind === "db"
      ? [
          sshTrust({
            user: "postgres",
            home: DB_HOME,
            peer: side.peer,
            peerUser: v.backupUser,
            peerHome: backupHome(v),
            ...(v.backupAddress ? { address: v.backupAddress } : {}),
          }),
        ]
      : [
          sshTrust({
            user: v.backupUser,
            home: backupHome(v),
            peer: side.peer,
            peerUser: "postgres",
            peerHome: DB_HOME,
            ...(v.dbAddress ? { address: v.dbAddress } : {}),
          }),
        ];
  },
});

/** PostgreSQL's archiving settings: archive_timeout is the RPO. */
export const archiveSettings = (v: PgbackrestVars): Record<string, string> =>
  sortedSettings({ archive_mode: "on", archive_command: archiveCommand(v), archive_timeout: String(v.rpoSeconds) });

export const pgbackrestStanza = defineRole({
  name: "pgbackrest-stanza",
  vars: PgbackrestVars,
  resources: (v, host, lab) => {
    if (sideOf(v, host, lab).kind === "backup") return [];
    const pg = clusterPaths({ version: v.pgVersion, cluster: v.pgCluster });
    const settings = archiveSettings(v);
    return [
      file({
        path: `${pg.conf}/conf.d/pgbackrest.conf`,
        mode: "0644",
        owner: "postgres",
        group: "postgres",
        content: lab.template("postgres/settings.conf.njk", {
          role: "pgbackrest",
          about: `WAL archiving to pgBackRest (stanza ${v.stanza}).`,
          settings,
        }),
      }),
      postgresRunning({ version: v.pgVersion, name: v.pgCluster, port: v.pgPort, settings }),
      stanzaResource({ stanza: v.stanza, user: "postgres", repos: [1, 2], port: v.pgPort, checkKey: checkKey(v, lab) }),
    ];
  },
});

/** The three plays, in order, on the database host and the backup host (a host pattern naming both). */
export function pgbackrestPlays(o: { hosts: string; vars: (host: HostInfo) => PgbackrestVars }): Play[] {
  return [
    { name: "pgbackrest", hosts: o.hosts, roles: (h) => [pgbackrest(o.vars(h))] },
    { name: "pgbackrest trust", hosts: o.hosts, roles: (h) => [pgbackrestTrust(o.vars(h))] },
    { name: "pgbackrest stanza", hosts: o.hosts, roles: (h) => [pgbackrestStanza(o.vars(h))] },
  ];
}
