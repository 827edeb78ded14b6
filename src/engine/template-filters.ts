// The Jinja filters Ansible users reach for, added to nunjucks with Ansible's
// semantics (ansible/plugins/filter/core.py), so templates read the same in both.
import type nunjucks from "nunjucks";
import { stringify } from "yaml";

type Env = InstanceType<typeof nunjucks.Environment>;

/** The `mandatory` filter's message (the renderer adds the variable's name and line). */
export const MANDATORY = "mandatory value is not defined";

/** Python-style sorted keys, like json.dumps(sort_keys=True) in to_nice_json. */
const sortKeys = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(sortKeys)
    : v && typeof v === "object"
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
        )
      : v;

/** A filter's input as text, the way Jinja prints it (objects as JSON, not "[object Object]"). */
const text = (v: unknown): string => {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  return v === undefined || v === null ? "" : JSON.stringify(v);
};

/** Ansible's `bool`: yes/on/1/true (any case) and 1 are true, everything else false. */
export function toBool(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v === 1;
  return ["yes", "on", "1", "true"].includes(text(v).trim().toLowerCase());
}

/** Python re.sub replacement syntax (\1, \g<1>, \g<name>) to JavaScript's ($1, $<name>). */
const pyReplacement = (r: string): string =>
  r
    .replaceAll("$", () => "$$")
    .replace(
      /\\g<(\d+)>|\\g<([A-Za-z_]\w*)>|\\(\d{1,2})|\\\\/g,
      (_m: string, gnum?: string, gname?: string, num?: string) =>
        gnum ? `$${gnum}` : gname ? `$<${gname}>` : num ? `$${num}` : "\\",
    );

export function regexReplace(
  value: unknown,
  pattern: string,
  replacement = "",
  ignorecase = false,
  multiline = false,
): string {
  // Python's named groups (?P<name>...) are (?<name>...) in JavaScript.
  const re = new RegExp(pattern.replaceAll("(?P<", "(?<"), `g${ignorecase ? "i" : ""}${multiline ? "m" : ""}`);
  return text(value).replace(re, pyReplacement(replacement));
}

export function dict2items(dict: unknown, keyName = "key", valueName = "value"): Record<string, unknown>[] {
  if (!dict || typeof dict !== "object" || Array.isArray(dict))
    throw new Error(`dict2items requires a dictionary, got ${Array.isArray(dict) ? "a list" : typeof dict}`);
  return Object.entries(dict as Record<string, unknown>).map(([k, v]) => ({ [keyName]: k, [valueName]: v }));
}

export function items2dict(items: unknown, keyName = "key", valueName = "value"): Record<string, unknown> {
  if (!Array.isArray(items)) throw new Error(`items2dict requires a list, got ${typeof items}`);
  return Object.fromEntries(
    items.map((it: Record<string, unknown>) => {
      if (!it || typeof it !== "object" || !(keyName in it) || !(valueName in it))
        throw new Error(`items2dict: every item needs "${keyName}" and "${valueName}"`);
      return [String(it[keyName]), it[valueName]];
    }),
  );
}

/**
 * nunjucks passes keyword arguments (`indent=2`) as a trailing object marked
 * `__keywords`; map them onto the filter's parameters by name, as Jinja does.
 */
function withKeywords<A extends unknown[]>(names: readonly string[], fn: (value: unknown, ...args: A) => unknown) {
  return (value: unknown, ...args: unknown[]): unknown => {
    const last = args[args.length - 1] as Record<string, unknown> | undefined;
    if (!last || typeof last !== "object" || !("__keywords" in last)) return fn(value, ...(args as A));
    const positional = args.slice(0, -1);
    for (const [k, v] of Object.entries(last)) {
      if (k === "__keywords") continue;
      const i = names.indexOf(k);
      if (i < 0) throw new Error(`unexpected keyword argument "${k}" (takes ${names.join(", ")})`);
      positional[i] = v;
    }
    return fn(value, ...(positional as A));
  };
}

export function addAnsibleFilters(env: Env): void {
  env.addFilter("to_json", (v: unknown) => JSON.stringify(v));
  env.addFilter(
    "to_nice_json",
    withKeywords(["indent"], (v, indent: number = 4) => JSON.stringify(sortKeys(v), null, indent)),
  );
  env.addFilter("to_yaml", (v: unknown) => stringify(v, { lineWidth: 0 }));
  env.addFilter(
    "to_nice_yaml",
    withKeywords(["indent"], (v, indent: number = 4) => stringify(v, { indent, lineWidth: 0 })),
  );
  env.addFilter("from_json", (v: unknown) => JSON.parse(String(v)) as unknown);
  env.addFilter(
    "regex_replace",
    withKeywords(
      ["pattern", "replacement", "ignorecase", "multiline"],
      regexReplace as (v: unknown, ...a: unknown[]) => string,
    ),
  );
  env.addFilter("bool", toBool);
  env.addFilter(
    "dict2items",
    withKeywords(["key_name", "value_name"], dict2items as (v: unknown, ...a: unknown[]) => unknown),
  );
  env.addFilter(
    "items2dict",
    withKeywords(["key_name", "value_name"], items2dict as (v: unknown, ...a: unknown[]) => unknown),
  );
  env.addFilter("b64encode", (v: unknown) => Buffer.from(text(v), "utf8").toString("base64"));
  env.addFilter("b64decode", (v: unknown) => Buffer.from(text(v), "base64").toString("utf8"));
  env.addFilter("mandatory", (v: unknown, msg?: string) => {
    if (v === undefined || v === null) throw new Error(msg ?? MANDATORY);
    return v;
  });
}
