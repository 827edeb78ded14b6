// backups/drills.yaml: derived from the policy without it; overrides validated
// with file:line:col (exit 2); the offsite repository is always drilled.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { resolvePolicy } from "../../../src/backup/policy.ts";
import { planRestores, resolveDrills } from "../../../src/drill/definitions.ts";
import { drillsSchemaJson } from "../../../src/drill/model.ts";
import { LabError } from "../../../src/errors.ts";
import { parseYaml } from "../../../src/inventory/yaml-source.ts";
import { inventoryOf } from "../helpers/inventory.ts";

const root = join(import.meta.dirname, "../../..");
const inv = inventoryOf({
  "hosts.yaml":
    "hosts:\n  db1: { address: 127.0.0.1 }\n  backup1: { address: 127.0.0.2 }\n  scratch1: { address: 127.0.0.3 }\n",
});
const policy = resolvePolicy(
  parseYaml(
    "/p/backups/policy.yaml",
    `
defaults: { rpo: 60s, rto: 2h, timezone: UTC }
postgres:
  db1-main:
    host: db1
    schedule: { full: "0 1 * * 0" }
    repositories:
      local: { repo: 1 }
      offsite: { repo: 2, host: backup1 }
      other: { repo: 3 }
`,
  ),
  inv,
);
const drills = (text: string | undefined) =>
  resolveDrills(text === undefined ? undefined : parseYaml("/p/backups/drills.yaml", text), policy, inv);
const fails = (text: string): LabError => {
  try {
    drills(text);
  } catch (e) {
    if (e instanceof LabError) return e;
    throw e;
  }
  throw new Error("no error");
};

describe("drill definitions", () => {
  it("without drills.yaml: every PostgreSQL target, the latest point from the offsite repository, the marker from the others", () => {
    const [d] = drills(undefined);
    expect(d!.target.name).toBe("db1-main");
    expect(d!.database).toBe("postgres");
    expect(d!.tables).toBeUndefined();
    expect(d!.scratchHost).toBe("db1");
    expect(d!.scratchPort).toBe(55432);
    expect(d!.restores.map((r) => [r.repo.name, r.to])).toEqual([
      ["local", "marker"],
      ["other", "marker"],
      ["offsite", "latest"],
    ]);
  });

  it("one repository does both restores", () => {
    expect(planRestores([policy.postgres[0]!.repositories[1]!]).map((r) => [r.repo.name, r.to])).toEqual([
      ["offsite", "marker"],
      ["offsite", "latest"],
    ]);
  });

  it("applies overrides: tables qualified, smoke queries, scratch host and port, repositories", () => {
    const [d] = drills(`postgres:
  db1-main:
    database: app
    tables: [orders, audit.log]
    smoke: [{ name: rows, sql: "select 1", expect: "1" }]
    scratch: { host: scratch1, port: 56000 }
    repositories: [offsite]
`);
    expect(d!.tables).toEqual(["public.orders", "audit.log"]);
    expect(d!.smoke).toEqual([{ name: "rows", sql: "select 1", expect: "1" }]);
    expect([d!.scratchHost, d!.scratchPort, d!.database]).toEqual(["scratch1", 56000, "app"]);
    expect(d!.restores.map((r) => [r.repo.name, r.to])).toEqual([
      ["offsite", "marker"],
      ["offsite", "latest"],
    ]);
  });

  it("refuses bad input with its position (exit 2)", () => {
    const cases: [string, RegExp, number, number][] = [
      ["postgres:\n  db1-main:\n    tabels: [x]\n", /unknown key "tabels"/, 3, 5],
      ["postgres:\n  db1-main:\n    scratch: { port: 80 }\n", /must be >= 1024/, 3, 22],
      ["postgres:\n  nope:\n    database: app\n", /drill for "nope": no such PostgreSQL target/, 2, 3],
      ["postgres:\n  db1-main:\n    repositories: [local, elsewhere]\n", /unknown repository "elsewhere"/, 3, 27],
      ["postgres:\n  db1-main:\n    repositories: [local]\n", /leaves out the offsite repository offsite/, 3, 19],
      ["postgres:\n  db1-main:\n    scratch: { host: ghost }\n", /scratch host "ghost" is not in the inventory/, 3, 22],
      ['postgres:\n  db1-main:\n    tables: ["x; drop table y"]\n', /must match pattern/, 3, 14],
    ];
    for (const [text, message, line, col] of cases) {
      const e = fails(text);
      expect(e.code, text).toBe(2);
      expect(e.message, text).toMatch(message);
      expect([e.where.file, e.where.line, e.where.col], text).toEqual(["/p/backups/drills.yaml", line, col]);
    }
  });
});

describe("backups/drills.schema.json", () => {
  it("is up to date with the model (run npm run gen:schema)", () => {
    expect(readFileSync(join(root, "backups/drills.schema.json"), "utf8")).toBe(drillsSchemaJson());
  });

  it("the example backups/drills.yaml validates against it", () => {
    const validate = new Ajv({ strict: false }).compile(
      JSON.parse(readFileSync(join(root, "backups/drills.schema.json"), "utf8")) as object,
    );
    expect(validate(parse(readFileSync(join(root, "backups/drills.yaml"), "utf8")))).toBe(true);
    expect(validate.errors ?? []).toEqual([]);
  });
});
