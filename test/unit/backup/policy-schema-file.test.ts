// backups/policy.schema.json is generated from the policy model; the example policy validates.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { expect, it } from "vitest";
import { policySchemaJson } from "../../../src/backup/policy-model.ts";

const root = join(import.meta.dirname, "../../..");

it("backups/policy.schema.json is up to date with the model (run npm run gen:schema)", () => {
  expect(readFileSync(join(root, "backups/policy.schema.json"), "utf8")).toBe(policySchemaJson());
});

it("the example policy (backups/policy.yaml) validates against the published schema", () => {
  const schema = JSON.parse(readFileSync(join(root, "backups/policy.schema.json"), "utf8")) as object;
  const validate = new Ajv({ strict: false }).compile(schema);
  const ok = validate(parse(readFileSync(join(root, "backups/policy.yaml"), "utf8")));
  expect(validate.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
});
