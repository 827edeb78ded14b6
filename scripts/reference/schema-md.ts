// A JSON Schema (TypeBox's or a published *.schema.json) as Markdown tables: one
// table per object, its keys with type, required, default, constraints and doc.
type Schema = Record<string, unknown>;

/** Where a key's doc comes from when the schema has no `description` (a role's JSDoc). */
export type DocLookup = (keys: readonly string[], key: string) => string | undefined;

const isSchema = (v: unknown): v is Schema => typeof v === "object" && v !== null && !Array.isArray(v);
const props = (s: Schema): Record<string, Schema> | undefined =>
  isSchema(s.properties) ? (s.properties as Record<string, Schema>) : undefined;
/** A map's value schema: `additionalProperties: {...}` (JSON) or TypeBox's Record (`patternProperties`). */
const mapValue = (s: Schema): Schema | undefined => {
  if (s.type !== "object" || props(s)) return undefined;
  if (isSchema(s.additionalProperties)) return s.additionalProperties;
  const pp = isSchema(s.patternProperties) ? Object.values(s.patternProperties) : [];
  return pp.length === 1 && isSchema(pp[0]) ? pp[0] : undefined;
};
const cell = (v: string): string => v.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|");
const code = (v: string): string => `\`${v.replace(/`/g, "'")}\``;

export function typeOf(s: Schema): string {
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(" \\| ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  const alts = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (Array.isArray(alts)) return alts.map(typeOf).join(" \\| ");
  if (s.type === "array" && isSchema(s.items)) {
    const t = typeOf(s.items);
    return t.includes("|") ? `(${t})[]` : `${t}[]`;
  }
  const value = mapValue(s);
  if (value) return `map of ${typeOf(value)}`;
  if (Array.isArray(s.type)) return s.type.join(" \\| ");
  return typeof s.type === "string" ? s.type : "any";
}

const CONSTRAINTS = [
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "pattern",
  "format",
  "minItems",
  "maxItems",
  "uniqueItems",
  "minProperties",
] as const;

function constraints(s: Schema): string {
  const own = CONSTRAINTS.filter((k) => s[k] !== undefined).map((k) => `${k} ${code(String(s[k]))}`);
  const inner = s.type === "array" && isSchema(s.items) ? constraints(s.items) : "";
  return [...own, ...(inner ? [`items: ${inner}`] : [])].join(", ");
}

interface Section {
  path: string;
  schema: Schema;
}

/** Every object with properties under `s`, depth first, with a path like `hosts.<name>.vars`. */
function sections(s: Schema, path: string, out: Section[]): Section[] {
  const p = props(s);
  if (p) {
    out.push({ path, schema: s });
    for (const [k, v] of Object.entries(p)) nested(v, path ? `${path}.${k}` : k, out);
  } else {
    nested(s, path, out);
  }
  return out;
}

function nested(v: Schema, path: string, out: Section[]): void {
  if (props(v)) sections(v, path, out);
  else if (mapValue(v)) nested(mapValue(v)!, `${path}.<name>`, out);
  else if (v.type === "array" && isSchema(v.items)) nested(v.items, `${path}[]`, out);
  else
    for (const [i, alt] of ((v.anyOf ?? v.oneOf ?? []) as Schema[]).entries())
      if (props(alt)) sections(alt, `${path} (variant ${i + 1})`, out);
}

/** Markdown: a table per object of `schema`; `defaults` fill in where the schema has no `default`. */
export function schemaTables(
  schema: Schema,
  o: { heading: string; doc?: DocLookup; defaults?: Record<string, unknown> },
): string {
  const out: string[] = [];
  for (const { path, schema: s } of sections(schema, "", [])) {
    const p = props(s)!;
    const required = new Set((s.required as string[] | undefined) ?? []);
    const keys = Object.keys(p);
    const closed = s.additionalProperties === false ? "" : " (other keys allowed)";
    out.push(`${o.heading} ${path ? code(path) : "top level"}${closed}`, "");
    if (typeof s.description === "string" && path) out.push(cell(s.description), "");
    out.push("| key | type | required | default | constraints | description |", "|---|---|---|---|---|---|");
    for (const k of keys) {
      const v = p[k]!;
      const dflt = v.default !== undefined ? v.default : path === "" ? o.defaults?.[k] : undefined;
      const doc = typeof v.description === "string" ? v.description : (o.doc?.(keys, k) ?? "");
      out.push(
        `| ${code(k)} | ${typeOf(v)} | ${required.has(k) ? "yes" : "no"} | ${dflt === undefined ? "" : code(JSON.stringify(dflt))} | ${cell(constraints(v))} | ${cell(doc)} |`,
      );
    }
    out.push("");
  }
  return out.join("\n");
}
