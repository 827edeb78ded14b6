// Validate an inventory file against the model (src/inventory/model.ts, published
// as inventory/schema.json) and turn ajv's first error into one message with file:line:col.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { badInput } from "../errors.ts";
import { InventoryFile } from "./model.ts";
import type { YamlSource } from "./yaml-source.ts";

// Compiled on first use (a few hundred ms): importers that only format errors (policy, drills) never pay for it.
let validateFile: ValidateFunction<InventoryFile> | undefined;

/** A file that passed the model: its data is typed. */
export interface InventorySource {
  src: YamlSource;
  data: InventoryFile;
}

export function validateInventoryFile(src: YamlSource): InventorySource {
  const data = src.data;
  validateFile ??= new Ajv({ allErrors: true, strict: false, verbose: true }).compile<InventoryFile>(InventoryFile);
  if (validateFile(data)) return { src, data };
  const err = pickError(validateFile.errors ?? []);
  throw err ? schemaError(src, err) : badInput("invalid inventory file", { file: src.file });
}

/** The most useful error: deepest path first, `additionalProperties` (a typo) before type errors. */
export function pickError(errors: ErrorObject[]): ErrorObject | undefined {
  const rank = (e: ErrorObject) =>
    e.instancePath.split("/").length * 10 + (e.keyword === "additionalProperties" ? 5 : 0);
  return [...errors].filter((e) => e.keyword !== "if").sort((a, b) => rank(b) - rank(a))[0];
}

export function schemaError(src: YamlSource, err: ErrorObject) {
  const path = err.instancePath
    .split("/")
    .slice(1)
    .map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));
  let keyPath = path;
  let what: string;
  let hint: string;
  // A bad key name (propertyNames): name the key and point at it, not at its parent.
  const badName =
    err.propertyName ??
    (err.keyword === "propertyNames" ? (err.params as { propertyName?: string }).propertyName : undefined);
  if (badName !== undefined) {
    keyPath = [...path, badName];
    what = `invalid name "${badName}": ${err.keyword === "propertyNames" ? "not a valid name" : (err.message ?? err.keyword)}`;
    hint = "names start with a letter or digit, then letters, digits, _ . or -";
  } else
    switch (err.keyword) {
      case "additionalProperties": {
        const extra = String((err.params as { additionalProperty: string }).additionalProperty);
        keyPath = [...path, extra];
        what = `unknown key "${extra}"`;
        hint = `allowed keys here: ${allowed(err)}`;
        break;
      }
      case "enum":
        what = `must be one of ${JSON.stringify((err.params as { allowedValues: unknown[] }).allowedValues)}`;
        hint = "use one of the allowed values";
        break;
      case "required":
        what = `missing required key "${(err.params as { missingProperty: string }).missingProperty}"`;
        hint = "add the key";
        break;
      default:
        what = err.message ?? err.keyword;
        hint = "see inventory/schema.json for what this key takes";
    }
  const pos = src.position(keyPath, err.keyword === "additionalProperties" ? "key" : "value");
  const at = keyPath.length ? keyPath.join(".") : "(top level)";
  return badInput(`${at}: ${what}`, { file: src.file, line: pos.line, col: pos.col }, hint);
}

function allowed(err: ErrorObject): string {
  const props = (err.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return props ? Object.keys(props).join(", ") : "(see inventory/schema.json)";
}
