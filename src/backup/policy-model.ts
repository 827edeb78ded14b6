// The backup policy (backups/policy.yaml), declared ONCE with TypeBox like the
// inventory: the JSON Schema that ajv validates against and that
// backups/policy.schema.json is generated from (`npm run gen:schema`), and the
// TypeScript types the backup and drill code reads.
import { Type, type Static } from "@sinclair/typebox";
import { Name, literals } from "../inventory/model.ts";
import { DURATION_PATTERN } from "./duration.ts";
import { namedTargets } from "./named-targets.ts";

const closed = { additionalProperties: false } as const;
const Duration = (description: string) =>
  Type.String({ pattern: DURATION_PATTERN, description: `${description} (e.g. 60s, 15m, 2h, 7d).` });
const Count = (description: string) => Type.Integer({ minimum: 1, description });

/** What every target inherits unless it says otherwise. */
export const PolicyDefaults = Type.Object(
  {
    rpo: Type.Optional(Duration("Most data a restore may lose")),
    rto: Type.Optional(Duration("Longest a restore may take, from start to verified")),
    drill_every: Type.Optional(Duration("Longest time between two successful restore drills (quarterly: 90d)")),
    timezone: Type.Optional(
      Type.String({ description: "IANA time zone of schedules and PBS prune periods (default: the control host's)." }),
    ),
  },
  closed,
);
export type PolicyDefaults = Static<typeof PolicyDefaults>;

const targetCommon = {
  rpo: Type.Optional(Duration("Most data a restore may lose")),
  rto: Type.Optional(Duration("Longest a restore may take, from start to verified")),
  drill_every: Type.Optional(Duration("Longest time between two successful restore drills")),
  description: Type.Optional(Type.String()),
};

/** One pgBackRest repository of a PostgreSQL target. */
export const PgRepository = Type.Object(
  {
    repo: Type.Integer({ minimum: 1, maximum: 256, description: "pgBackRest repository index (repoN-* options)." }),
    host: Type.Optional(
      Type.String({
        description:
          "Inventory host that holds the repository (pgBackRest repository host over SSH); absent: on the database host.",
      }),
    ),
    path: Type.Optional(Type.String({ pattern: "^/", description: "Repository path (default /var/lib/pgbackrest)." })),
    user: Type.Optional(
      Type.String({
        pattern: "^[a-z_][a-z0-9_-]*$",
        description:
          "User owning a repository on a repository host; backups and verify run there as this user (default pgbackrest).",
      }),
    ),
    encryption_key: Type.Optional(
      Type.String({
        description: "Name of the secret (secrets.age) holding the repository's cipher passphrase; set: aes-256-cbc.",
      }),
    ),
    retention: Type.Optional(
      Type.Object(
        {
          full: Count("Full backups kept (repoN-retention-full)."),
          diff: Type.Optional(Count("Differential backups kept (repoN-retention-diff).")),
        },
        closed,
      ),
    ),
  },
  closed,
);
export type PgRepository = Static<typeof PgRepository>;

export const PgTarget = Type.Object(
  {
    host: Type.String({ description: "Inventory host that runs the cluster." }),
    cluster: Type.Optional(
      Type.String({
        pattern: "^[0-9]+/[A-Za-z0-9_-]+$",
        description: "Debian cluster VERSION/NAME (default 15/main).",
      }),
    ),
    stanza: Type.Optional(
      Type.String({ pattern: "^[A-Za-z0-9_.-]+$", description: "pgBackRest stanza (default: the target's name)." }),
    ),
    ...targetCommon,
    schedule: Type.Object(
      {
        full: Type.String({ description: 'cron expression of full backups, e.g. "0 1 * * 0".' }),
        diff: Type.Optional(
          Type.String({ description: 'cron expression of differential backups, e.g. "0 1 * * 1-6".' }),
        ),
        verify: Type.Optional(Type.String({ description: "cron expression of `lab backup verify` (default weekly)." })),
      },
      closed,
    ),
    repositories: Type.Unsafe<Record<string, PgRepository>>({
      type: "object",
      minProperties: 1,
      propertyNames: { pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]*$" },
      additionalProperties: PgRepository,
      description:
        "Repositories by name (e.g. local, offsite): at least one; an offsite one on another host is what survives the database host.",
    }),
    accept_wal_loss: Type.Optional(
      Type.Boolean({
        description:
          "Allow pgBackRest to DROP WAL when its queue is full (archive-push-queue-max). Default false: every run reports it when true.",
      }),
    ),
  },
  closed,
);
export type PgTarget = Static<typeof PgTarget>;

export const PbsRetention = Type.Object(
  {
    last: Type.Optional(Count("keep-last")),
    hourly: Type.Optional(Count("keep-hourly")),
    daily: Type.Optional(Count("keep-daily")),
    weekly: Type.Optional(Count("keep-weekly")),
    monthly: Type.Optional(Count("keep-monthly")),
    yearly: Type.Optional(Count("keep-yearly")),
  },
  { ...closed, minProperties: 1 },
);
export type PbsRetention = Static<typeof PbsRetention>;

export const VmTarget = Type.Object(
  {
    select: Type.Union(
      [
        Type.Object(
          {
            vms: Type.Array(Name, {
              minItems: 1,
              uniqueItems: true,
              description: "VM names under the inventory's vms:.",
            }),
          },
          closed,
        ),
        Type.Object(
          { tag: Type.String({ description: "Every inventory VM with this tag (expanded to VM ids when planned)." }) },
          closed,
        ),
      ],
      { description: "Which VMs: by name, or every VM with a tag." },
    ),
    ...targetCommon,
    endpoint: Type.String({
      description: "Proxmox endpoint (under the inventory's proxmox:) that runs the backup job.",
    }),
    pbs: Type.String({ description: "Proxmox Backup Server (under the inventory's pbs:) that stores the backups." }),
    datastore: Type.String({ pattern: "^[A-Za-z0-9_][A-Za-z0-9._-]*$", description: "PBS datastore." }),
    storage: Type.String({
      pattern: "^[a-z][a-z0-9._-]*$",
      description: "Proxmox storage id lab adds for the datastore (type pbs).",
    }),
    schedule: Type.String({
      description: 'Proxmox calendar event of the vzdump job, e.g. "*-*-* 02:30" or "mon..sat 02:30".',
    }),
    mode: Type.Optional(literals(["snapshot", "suspend", "stop"], { description: "vzdump mode (default snapshot)." })),
    retention: PbsRetention,
    encryption_key: Type.Optional(
      Type.String({ description: "Name of the secret holding the PBS client encryption key." }),
    ),
    offsite: Type.Optional(
      Type.Object(
        {
          datastore: Type.String({ description: "Datastore the PBS sync job copies to (the offsite copy)." }),
          schedule: Type.String({ description: "Calendar event of the sync job." }),
        },
        closed,
      ),
    ),
    verify: Type.Optional(
      Type.Object(
        {
          schedule: Type.String({ description: "Calendar event of the PBS verify job." }),
          outdated_after: Type.Optional(
            Type.Integer({ minimum: 1, description: "Days after which a verified snapshot is verified again." }),
          ),
        },
        closed,
      ),
    ),
  },
  closed,
);
export type VmTarget = Static<typeof VmTarget>;

export const PolicyFile = Type.Object(
  {
    defaults: Type.Optional(PolicyDefaults),
    ...namedTargets(
      {
        item: PgTarget,
        description: "PostgreSQL clusters protected with pgBackRest (WAL archiving + base backups), by target name.",
      },
      { item: VmTarget, description: "VMs protected with Proxmox Backup Server jobs, by target name." },
    ),
  },
  {
    ...closed,
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://lab.invalid/backups/policy.schema.json",
    title: "lab backup policy",
    description:
      "What is protected, how fresh it must be (RPO), how fast it must come back (RTO), how long it is kept and where. Generated from src/backup/policy-model.ts (npm run gen:schema).",
  },
);
export type PolicyFile = Static<typeof PolicyFile>;

/** backups/policy.schema.json's text. */
export const policySchemaJson = (): string =>
  `${JSON.stringify({ $schema: PolicyFile.$schema, $id: PolicyFile.$id, title: PolicyFile.title, ...PolicyFile }, null, 2)}\n`;
