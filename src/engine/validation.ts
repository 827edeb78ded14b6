// One way to check a value against a TypeBox/JSON Schema and say what is wrong in
// the inventory's style ("path: what", a hint, "did you mean"): for role vars,
// declared host vars and resource options.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { TSchema } from "@sinclair/typebox";
import { isSecret } from "../secrets/secret.ts";

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const compiled = new WeakMap<object, ValidateFunction>();

export interface Problem {
  /** Key path of the bad value, e.g. ["admins", 0] or ["contnet"] (an unknown key). */
  path: (string | number)[];
  /** "unknown option \"contnet\" (did you mean \"content\"?)", "must be integer", ... */
  what: string;
  /** The key itself is wrong (unknown/missing) rather than its value. */
  key: boolean;
}

/** The first (most useful) problem of `value` against `schema`, or undefined when it is valid. Secrets count as the strings they stand for. */
export function firstProblem(schema: TSchema, value: unknown, noun = "key"): Problem | undefined {
  let validate = compiled.get(schema);
  if (!validate) compiled.set(schema, (validate = ajv.compile(schema)));
  if (validate(plain(value))) return undefined;
  const err = pick(validate.errors ?? []);
  return err ? describe(err, noun) : { path: [], what: "is invalid", key: false };
}

/** A path as written in messages: vars.admins[0]. */
export const formatPath = (prefix: string, path: readonly (string | number)[]): string =>
  path.reduce<string>((s, p) => (typeof p === "number" ? `${s}[${p}]` : `${s}.${p}`), prefix);

/** Deepest first, an unknown key (a typo) before the type errors it causes. */
function pick(errors: ErrorObject[]): ErrorObject | undefined {
  const rank = (e: ErrorObject) =>
    e.instancePath.split("/").length * 10 +
    (e.keyword === "additionalProperties" ? 5 : e.keyword === "anyOf" || e.keyword === "oneOf" ? -5 : 0);
  return [...errors].filter((e) => e.keyword !== "if").sort((a, b) => rank(b) - rank(a))[0];
}

function describe(err: ErrorObject, noun: string): Problem {
  const path = err.instancePath
    .split("/")
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p.replaceAll("~1", "/").replaceAll("~0", "~")));
  switch (err.keyword) {
    case "additionalProperties": {
      const extra = String((err.params as { additionalProperty: string }).additionalProperty);
      const known = Object.keys((err.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const guess = didYouMean(extra, known);
      return {
        path: [...path, extra],
        what: `unknown ${noun} "${extra}"${guess || (known.length ? ` (known: ${known.join(", ")})` : "")}`,
        key: true,
      };
    }
    case "required":
      return {
        path: [...path, (err.params as { missingProperty: string }).missingProperty],
        what: "is required but missing",
        key: true,
      };
    case "enum":
      return {
        path,
        what: `must be one of ${JSON.stringify((err.params as { allowedValues: unknown[] }).allowedValues)}`,
        key: false,
      };
    default:
      return { path, what: err.message ?? err.keyword, key: false };
  }
}

/** ` (did you mean "x"?)` for the closest candidate within a small edit distance, else "". */
export function didYouMean(name: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const c of candidates) {
    const d = distance(name.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best === undefined ? "" : ` (did you mean "${best}"?)`;
}

/** Damerau-Levenshtein (optimal string alignment): a swapped pair of letters is one edit. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** Secrets are objects at run time; schemas see them as the strings they stand for. A key set to undefined is absent. */
export function plain(v: unknown): unknown {
  if (isSecret(v)) return v.toString();
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype)
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, plain(x)]),
    );
  return v;
}
