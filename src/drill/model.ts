// Drill definitions (backups/drills.yaml), declared ONCE with TypeBox like the
// backup policy: the JSON Schema ajv validates against (backups/drills.schema.json
// is generated from it by `npm run gen:schema`) and the types the drill reads.
// Every key is optional: a target of the policy is drilled without an entry.
import { Type, type Static } from "@sinclair/typebox";
import { DURATION_PATTERN } from "../backup/duration.ts";
import { namedTargets } from "../backup/named-targets.ts";

const closed = { additionalProperties: false } as const;

/** A query the restored copy must answer; with `expect`, its output must be exactly that. */
export const SmokeQuery = Type.Object(
  {
    name: Type.String({ minLength: 1, description: "What the query proves (shown in the report)." }),
    database: Type.Optional(
      Type.String({ minLength: 1, description: "Database to run it in (default: the drill's database)." }),
    ),
    sql: Type.String({
      minLength: 1,
      description: "One SQL statement, run with psql -At on the copy (read-only use, please).",
    }),
    expect: Type.Optional(
      Type.String({
        description:
          "Exact output (psql -At: columns joined by |, rows by newlines). Absent: the query must succeed and return a row.",
      }),
    ),
  },
  closed,
);
export type SmokeQuery = Static<typeof SmokeQuery>;

export const PgDrill = Type.Object(
  {
    database: Type.Optional(
      Type.String({
        minLength: 1,
        description: "Database whose tables are checksummed at the marker (default postgres).",
      }),
    ),
    tables: Type.Optional(
      Type.Array(Type.String({ pattern: "^([A-Za-z_][A-Za-z0-9_$]*\\.)?[A-Za-z_][A-Za-z0-9_$]*$" }), {
        uniqueItems: true,
        description:
          "Tables (schema.table; public when unqualified) checksummed at the marker. Default: every user table of the database.",
      }),
    ),
    smoke: Type.Optional(
      Type.Array(SmokeQuery, { description: "The drill's own queries, run on every restored copy." }),
    ),
    repositories: Type.Optional(
      Type.Array(Type.String(), {
        minItems: 1,
        uniqueItems: true,
        description:
          "Repositories (names in the policy) to restore from. Default: all; the offsite one is always among them.",
      }),
    ),
    scratch: Type.Optional(
      Type.Object(
        {
          host: Type.Optional(
            Type.String({
              description:
                "Inventory host the copy is restored on (default: the database host). It needs PostgreSQL and a pgbackrest.conf that reaches the repositories.",
            }),
          ),
          port: Type.Optional(
            Type.Integer({
              minimum: 1024,
              maximum: 65535,
              description: "Port of the scratch cluster (Unix socket only, in its own directory; default 55432).",
            }),
          ),
        },
        closed,
      ),
    ),
  },
  closed,
);
export type PgDrill = Static<typeof PgDrill>;

const probeCommon = {
  name: Type.String({ minLength: 1, description: "What the probe proves (shown in the report)." }),
  vm: Type.Optional(Type.String({ description: "Only for this VM of the target (default: every VM of the target)." })),
  timeout: Type.Optional(
    Type.String({
      pattern: DURATION_PATTERN,
      description: "How long the probe is retried until it passes (default 60s).",
    }),
  ),
};

/** A probe of a restored VM: a command over SSH, an HTTP health URL, or a Compose stack healthy. */
export const VmProbe = Type.Union([
  Type.Object(
    {
      ...probeCommon,
      ssh: Type.String({
        minLength: 1,
        description:
          "Shell command run in the restored guest over SSH (as the VM's inventory host logs in); must exit 0.",
      }),
      expect: Type.Optional(Type.String({ description: "Exact output (trailing newline dropped)." })),
    },
    closed,
  ),
  Type.Object(
    {
      ...probeCommon,
      http: Type.String({
        pattern: "^https?://",
        description:
          "URL fetched by lab; {address} is replaced by the restored guest's address, e.g. http://{address}:8080/health.",
      }),
      status: Type.Optional(
        Type.Integer({ minimum: 100, maximum: 599, description: "Expected HTTP status (default 200)." }),
      ),
      expect: Type.Optional(Type.String({ description: "Text the body must contain." })),
    },
    closed,
  ),
  Type.Object(
    {
      ...probeCommon,
      compose: Type.String({
        minLength: 1,
        description:
          "Compose project in the restored guest whose services must all be healthy (with a healthcheck) or running.",
      }),
      services: Type.Optional(
        Type.Array(Type.String({ minLength: 1 }), {
          uniqueItems: true,
          description: "Only these services (default: every service of the project).",
        }),
      ),
    },
    closed,
  ),
]);
export type VmProbe = Static<typeof VmProbe>;

export const VmDrill = Type.Object(
  {
    probes: Type.Optional(
      Type.Array(VmProbe, {
        description: "Run in every restored VM (or the one named by `vm`) after its guest agent answers.",
      }),
    ),
    vlan: Type.Optional(
      Type.String({
        description:
          "VLAN (under the inventory's vlans:) every NIC of a restored copy is moved to (default Lab). Never a VM's production VLAN.",
      }),
    ),
    older_every: Type.Optional(
      Type.String({
        pattern: DURATION_PATTERN,
        description:
          "How often a randomly chosen older retained backup is restored too (default: the target's drill_every, i.e. quarterly); `lab drill --older` forces it.",
      }),
    ),
    agent_timeout: Type.Optional(
      Type.String({
        pattern: DURATION_PATTERN,
        description: "How long to wait for the restored guest's agent to report an address (default 300s).",
      }),
    ),
  },
  closed,
);
export type VmDrill = Static<typeof VmDrill>;

export const DrillsFile = Type.Object(
  {
    ...namedTargets(
      {
        item: PgDrill,
        description: "Overrides for the drills of PostgreSQL targets, by target name (as in backups/policy.yaml).",
      },
      {
        item: VmDrill,
        description: "Probes and settings of the drills of VM targets, by target name (as in backups/policy.yaml).",
      },
    ),
  },
  {
    ...closed,
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://lab.invalid/backups/drills.schema.json",
    title: "lab restore drills",
    description:
      "Overrides for `lab drill`: which tables are checksummed, smoke queries, where the scratch copy goes; the probes of restored VMs. Generated from src/drill/model.ts (npm run gen:schema).",
  },
);
export type DrillsFile = Static<typeof DrillsFile>;

/** backups/drills.schema.json's text. */
export const drillsSchemaJson = (): string =>
  `${JSON.stringify({ $schema: DrillsFile.$schema, $id: DrillsFile.$id, title: DrillsFile.title, ...DrillsFile }, null, 2)}\n`;
