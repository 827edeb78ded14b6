// The plaintext inside secrets.age: YAML `name: value`, flat, string values.
// Parse errors give line:col only: yaml's usual snippet would quote secret values.
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { badInput } from "../errors.ts";

/** Below this length the redactor cannot scrub a value without mangling ordinary words. */
export const MIN_SECRET_LENGTH = 4;
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function checkName(name: string, file?: string): void {
  if (!NAME.test(name)) {
    throw badInput(
      `invalid secret name ${JSON.stringify(name)}${file ? ` in ${file}` : ""}`,
      file ? { file } : {},
      "names are letters, digits, _ . - and start with a letter or _",
    );
  }
}

export function checkValue(name: string, value: string, file?: string): void {
  if (value.length < MIN_SECRET_LENGTH) {
    // The message says how long, never what.
    throw badInput(
      `secret ${name}${file ? ` in ${file}` : ""} is shorter than ${MIN_SECRET_LENGTH} characters`,
      file ? { file } : {},
      "such a value cannot be scrubbed from output safely; use a longer one",
    );
  }
}

/** YAML text -> name/value pairs, validated. `file` is for messages only. */
export function parsePlaintext(text: string, file: string): Map<string, string> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const { line, col } = lineCounter.linePos(err.pos[0]);
    throw badInput(`${err.message} (plaintext of the secrets file)`, { file, line, col });
  }
  const out = new Map<string, string>();
  if (doc.contents === null) return out;
  if (!isMap(doc.contents)) throw badInput("the secrets file must hold a YAML mapping `name: value`", { file });
  for (const pair of doc.contents.items) {
    const pos = lineCounter.linePos((isScalar(pair.key) && pair.key.range?.[0]) || 0);
    const where = { file, line: pos.line, col: pos.col };
    if (!isScalar(pair.key) || typeof pair.key.value !== "string")
      throw badInput("secret names must be plain strings", where);
    const name = pair.key.value;
    checkName(name, file);
    const v: unknown = isScalar(pair.value) ? pair.value.value : pair.value;
    // Numbers/booleans are kept as written (a PIN `0123` stays `0123`); maps and lists are refused.
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
      throw badInput(
        `secret ${name} must be a string (got ${v === null || v === undefined ? "nothing" : "a structure"})`,
        where,
      );
    }
    const value = typeof v === "string" ? v : String((pair.value as { source?: string }).source ?? v);
    checkValue(name, value, file);
    out.set(name, value);
  }
  return out;
}

export const EMPTY_PLAINTEXT = "# name: value   (one secret per line; at least 4 characters each)\n";

/** Apply sets (string) and deletes (undefined) to YAML text, keeping its comments and order. */
export function updatePlaintext(text: string, changes: ReadonlyMap<string, string | undefined>): string {
  const doc = parseDocument(text);
  for (const [name, value] of changes) {
    if (value === undefined) doc.delete(name);
    else doc.set(name, value);
  }
  return doc.toString({ lineWidth: 0 });
}
