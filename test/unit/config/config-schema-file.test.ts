// docs/schema/lab.config.schema.json is generated from the TypeBox model (npm run gen:schema);
// the demo's lab.config.yaml points editors at it and validates against it.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { expect, it } from "vitest";
import { projectConfigSchemaJson } from "../../../src/config/project-config.ts";

const root = join(import.meta.dirname, "../../..");
const FILE = "docs/schema/lab.config.schema.json";

it(`${FILE} is up to date with the model (run npm run gen:schema)`, () => {
  expect(readFileSync(join(root, FILE), "utf8")).toBe(projectConfigSchemaJson());
});

it("the demo writes lab.config.yaml with the schema modeline, and it validates", () => {
  // What scripts/demo.sh's printf writes, run by bash itself (no copy of the text here).
  const line = readFileSync(join(root, "scripts/demo.sh"), "utf8")
    .split("\n")
    .find((l) => l.includes("> lab.config.yaml"))!;
  const printf = line.slice(line.indexOf("printf"), line.lastIndexOf(">")).trim();
  const text = execFileSync("bash", ["-c", printf], { encoding: "utf8" });
  expect(text.split("\n")[0]).toBe(`# yaml-language-server: $schema=${FILE}`);
  const validate = new Ajv({ strict: false }).compile(JSON.parse(readFileSync(join(root, FILE), "utf8")) as object);
  expect(validate(parse(text)), JSON.stringify(validate.errors)).toBe(true);
  expect(validate({ forks: 0 })).toBe(false);
});
