// Real `--json` outputs checked against the published schema (docs/schema/report.schema.json).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Ajv } from "ajv";
import { expect } from "vitest";

const schema = JSON.parse(
  readFileSync(resolve(import.meta.dirname, "../../../docs/schema/report.schema.json"), "utf8"),
) as object;
const validate = new Ajv({ strict: true, allErrors: true }).compile(schema);

/** The parsed object, after asserting it matches the schema. */
export function validReport(text: string): Record<string, unknown> {
  const v = JSON.parse(text) as Record<string, unknown>;
  expect(validate(v), JSON.stringify(validate.errors)).toBe(true);
  return v;
}
