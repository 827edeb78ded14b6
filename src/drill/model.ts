// Drill definitions (backups/drills.yaml), declared ONCE with TypeBox like the
// backup policy: the JSON Schema ajv validates against (backups/drills.schema.json
// is generated from it by `npm run gen:schema`) and the types the drill reads.
// Every key is optional: a target of the policy is drilled without an entry.
import { Type, type Static } from "@sinclair/typebox";
import { named } from "../inventory/model.ts";

const closed = { additionalProperties: false } as const;

/** A query the restored copy must answer; with `expect`, its output must be exactly that. */
export const SmokeQuery = Type.Object({
  name: Type.String({ minLength: 1, description: "What the query proves (shown in the report)." }),
  database: Type.Optional(Type.String({ minLength: 1, description: "Database to run it in (default: the drill's database)." })),
  sql: Type.String({ minLength: 1, description: "One SQL statement, run with psql -At on the copy (read-only use, please)." }),
  expect: Type.Optional(Type.String({ description: "Exact output (psql -At: columns joined by |, rows by newlines). Absent: the query must succeed and return a row." })),
}, closed);
export type SmokeQuery = Static<typeof SmokeQuery>;

export const PgDrill = Type.Object({
  database: Type.Optional(Type.String({ minLength: 1, description: "Database whose tables are checksummed at the marker (default postgres)." })),
  tables: Type.Optional(Type.Array(Type.String({ pattern: "^([A-Za-z_][A-Za-z0-9_$]*\\.)?[A-Za-z_][A-Za-z0-9_$]*$" }), {
    uniqueItems: true, description: "Tables (schema.table; public when unqualified) checksummed at the marker. Default: every user table of the database.",
  })),
  smoke: Type.Optional(Type.Array(SmokeQuery, { description: "The drill's own queries, run on every restored copy." })),
  repositories: Type.Optional(Type.Array(Type.String(), { minItems: 1, uniqueItems: true, description: "Repositories (names in the policy) to restore from. Default: all; the offsite one is always among them." })),
  scratch: Type.Optional(Type.Object({
    host: Type.Optional(Type.String({ description: "Inventory host the copy is restored on (default: the database host). It needs PostgreSQL and a pgbackrest.conf that reaches the repositories." })),
    port: Type.Optional(Type.Integer({ minimum: 1024, maximum: 65535, description: "Port of the scratch cluster (Unix socket only, in its own directory; default 55432)." })),
  }, closed)),
}, closed);
export type PgDrill = Static<typeof PgDrill>;

export const DrillsFile = Type.Object({
  postgres: Type.Optional(named(PgDrill, "Overrides for the drills of PostgreSQL targets, by target name (as in backups/policy.yaml).")),
}, {
  ...closed,
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "https://lab.invalid/backups/drills.schema.json",
  title: "lab restore drills",
  description: "Overrides for `lab drill`: which tables are checksummed, smoke queries, where the scratch copy goes. Generated from src/drill/model.ts (npm run gen:schema).",
});
export type DrillsFile = Static<typeof DrillsFile>;

/** backups/drills.schema.json's text. */
export const drillsSchemaJson = (): string => `${JSON.stringify({ $schema: DrillsFile.$schema, $id: DrillsFile.$id, title: DrillsFile.title, ...DrillsFile }, null, 2)}\n`;
