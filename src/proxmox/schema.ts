// The official PVE (and PBS) API schema, and a validator that follows
// pve-common's PVE::JSONSchema (check_prop/check_object): same order of checks,
// same error texts, so the simulator answers a bad request exactly as PVE does
// and tests can tell whether lab's requests and the simulator's replies conform.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { FORMATS, NAMED_PROPERTY_FORMATS, scalarText, splitList } from "./schema-formats.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

/** One property schema as found in apidata.json (numbers may be strings, flags 0/1). */
export interface PropSchema {
  readonly type?: string;
  readonly optional?: number | boolean;
  readonly format?: string | Record<string, PropSchema>;
  readonly pattern?: string;
  readonly enum?: readonly string[] | null;
  readonly minimum?: number | string;
  readonly maximum?: number | string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly properties?: Record<string, PropSchema>;
  readonly additionalProperties?: number | boolean | PropSchema;
  readonly items?: PropSchema;
  readonly requires?: string;
  readonly alias?: string;
  readonly keyAlias?: string;
  readonly default_key?: number;
  readonly default?: unknown;
}

export interface MethodInfo {
  readonly name: string;
  readonly method: HttpMethod;
  readonly parameters?: PropSchema;
  readonly returns?: PropSchema;
  /** 0: not available with API tokens. Absent means allowed. */
  readonly allowtoken?: number;
  readonly protected?: number;
  readonly permissions?: unknown;
}

interface SchemaNode {
  readonly path: string;
  readonly info?: Partial<Record<HttpMethod, MethodInfo>>;
  readonly children?: readonly SchemaNode[];
}

/** One way a request or reply breaks the schema; `path` is the parameter ("vmid", "net0.bridge", "data[0].vmid"). */
export interface Violation {
  readonly path: string;
  readonly message: string;
}

export interface RequestCheck {
  /** 200: valid; 400: parameter errors; 501: no such path or method. */
  readonly status: 200 | 400 | 501;
  readonly template?: string;
  readonly info?: MethodInfo;
  /** Path parameters taken from the concrete path, URI-decoded. */
  readonly pathParams: Record<string, string>;
  readonly violations: readonly Violation[];
}

/** Highest index + 1 of the `name[n]` properties (qemu-server/pve-container limits). */
const INDEX_LIMITS: Record<string, number> = {
  net: 32,
  ipconfig: 32,
  unused: 256,
  hostpci: 16,
  ide: 4,
  numa: 8,
  parallel: 3,
  sata: 6,
  scsi: 31,
  serial: 4,
  usb: 14,
  virtio: 16,
  virtiofs: 10,
  link: 8,
  dev: 256,
  mp: 256,
  acmedomain: 6,
};

const isDefined = (v: unknown): boolean => v !== undefined && v !== null;
const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$/;

const regexCache = new Map<string, RegExp | null>();
/** POSIX bracket classes (Perl and Rust) in JS terms; `cntrl` needs unicode mode. */
const POSIX: Record<string, string> = {
  alnum: "A-Za-z0-9",
  alpha: "A-Za-z",
  digit: "0-9",
  lower: "a-z",
  upper: "A-Z",
  xdigit: "0-9A-Fa-f",
  space: "\\s",
  blank: " \\t",
  cntrl: "\\p{Cc}",
  print: "\\x20-\\x7e",
  graph: "\\x21-\\x7e",
  word: "\\w",
  punct: "!-\\/:-@\\[-`{-~",
};
/** Perl patterns to JS: `(?^:x)` groups, `(?^i:x)` makes the whole match case-insensitive; PBS wraps in /.../. */
function compilePattern(pattern: string): RegExp | null {
  let re = regexCache.get(pattern);
  if (re !== undefined) return re;
  let src = pattern.startsWith("/") && pattern.endsWith("/") ? pattern.slice(1, -1) : pattern;
  let flags = src.includes("(?^i:") ? "i" : "";
  src = src.replace(/\(\?\^i?:/g, "(?:");
  // A leading (?m) (Rust): ^ and $ at every line.
  if (src.startsWith("(?m)")) [src, flags] = [src.slice(4), `${flags}m`];
  if (src.includes("[:")) {
    // [[:^cntrl:]] -> \P{Cc}; [:name:] inside a bracket -> its ranges. Unicode mode for \p, so identity escapes go.
    src = src
      .replace(/\[\[:\^cntrl:\]\]/g, "\\P{Cc}")
      .replace(/\[:(\^?)([a-z]+):\]/g, (m, neg: string, name: string) => (neg ? m : (POSIX[name] ?? m)));
    src = src.replace(/\\([_/])/g, "$1");
    flags += "u";
  }
  try {
    re = src.includes("[:") ? null : new RegExp(`^(?:${src})$`, flags);
  } catch {
    re = null; // a Perl construct JS cannot express: not checked
  }
  regexCache.set(pattern, re);
  return re;
}

/** A property of an object schema, expanding `net[n]` to net0..net31. */
function propertyOf(props: Record<string, PropSchema>, key: string): PropSchema | undefined {
  const direct = props[key];
  if (direct) return direct;
  const m = /^([a-z]+)(\d+)$/.exec(key);
  if (!m) return undefined;
  const indexed = props[`${m[1]}[n]`];
  return indexed && Number(m[2]) < (INDEX_LIMITS[m[1]!] ?? 256) && String(Number(m[2])) === m[2] ? indexed : undefined;
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return "ARRAY";
  if (typeof v === "boolean") return "JSON::PP::Boolean";
  return "HASH";
}

/**
 * A reply as JSON carries it: integers and numbers are JSON numbers, booleans
 * true/false or 0/1, strings strings (a numeric string is not an integer).
 */
function checkJsonType(path: string, type: string, value: unknown, out: Violation[]): boolean {
  const fail = (): boolean => (
    out.push({ path, message: `type check ('${type}') failed - got ${JSON.stringify(value)} (JSON ${typeof value})` }),
    false
  );
  if (type === "integer") return (typeof value === "number" && Number.isInteger(value)) || fail();
  if (type === "number") return typeof value === "number" || fail();
  if (type === "boolean") return typeof value === "boolean" || value === 0 || value === 1 || fail();
  if (type === "string") return typeof value === "string" || fail();
  return true;
}

/** PVE::JSONSchema::check_type for one value (strict: as JSON replies must carry it). */
function checkType(path: string, type: string | undefined, value: unknown, out: Violation[], strict = false): boolean {
  if (!type || type === "any") return true;
  if (strict && !checkJsonType(path, type, value, out)) return false;
  const fail = (detail: string): boolean => (
    out.push({ path, message: `type check ('${type}') failed${detail}` }),
    false
  );
  if (type === "null") return isDefined(value) ? fail(" - value is not null") : true;
  if (type === "array") return Array.isArray(value) || fail("");
  if (type === "object") return (typeof value === "object" && value !== null && !Array.isArray(value)) || fail("");
  if (typeof value === "object" || typeof value === "boolean") {
    if (type === "boolean" && typeof value === "boolean") return true;
    return fail(` - got ${typeName(value)}`);
  }
  const s = scalarText(value);
  if (type === "boolean") return s === "1" || s === "0" || fail(` - got '${s}'`);
  if (type === "integer") return INTEGER.test(s) || fail(` - got '${s}'`);
  if (type === "number") return NUMBER.test(s) || fail(` - got '${s}'`);
  return true;
}

/** Named or inline format; returns the text after "invalid format - ". */
function checkFormat(format: string | Record<string, PropSchema>, value: string, path: string): string | undefined {
  if (typeof format === "object") return checkPropertyString(format, value, path);
  const named = NAMED_PROPERTY_FORMATS[format];
  if (named) return checkPropertyString(named, value, path);
  const m = /^(.*?)(?:-(list|opt))?$/.exec(format)!;
  const check = FORMATS[m[1]!];
  if (!check) return undefined;
  if (m[2] === "list")
    return splitList(value)
      .map(check)
      .find((e) => e !== undefined);
  if (m[2] === "opt" && value === "") return undefined;
  return check(value);
}

/** PVE::JSONSchema::parse_property_string followed by check_object (no additional keys allowed). */
function checkPropertyString(format: Record<string, PropSchema>, text: string, path: string): string | undefined {
  const values: Record<string, string> = {};
  let defaultKey: string | undefined;
  for (const part of text.split(",")) {
    if (/^\s*$/.test(part)) continue;
    const kv = /^([^=]+)=(.+)$/.exec(part);
    if (kv) {
      let k = kv[1]!;
      if (isDefined(values[k])) return `duplicate key in comma-separated list property: ${k}\n`;
      const alias = format[k]?.alias;
      if (alias) {
        const keyAlias = format[k]!.keyAlias;
        if (keyAlias) values[keyAlias] = k;
        k = alias;
      }
      const keySchema = format[k];
      if (!keySchema) return `invalid key in comma-separated list property: ${k}\n`;
      values[k] = keySchema.type === "boolean" ? booleanWord(kv[2]!) : kv[2]!;
    } else if (!part.includes("=")) {
      if (defaultKey) return `duplicate key in comma-separated list property: ${defaultKey}\n`;
      defaultKey = Object.keys(format).find((key) => format[key]!.default_key);
      if (!defaultKey) return "value without key, but schema does not define a default key\n";
      if (values[defaultKey]) return `duplicate key in comma-separated list property: ${defaultKey}\n`;
      values[defaultKey] = part;
    } else {
      return "missing key in comma-separated list property\n";
    }
  }
  const inner: Violation[] = [];
  checkObject(path, format, values, 0, inner);
  return inner.length
    ? `format error\n${inner.map((v) => `${v.path}: ${v.message.replace(/\n$/, "")}\n`).join("")}`
    : undefined;
}

/** PVE::JSONSchema::parse_boolean inside property strings. */
const booleanWord = (v: string): string =>
  /^(1|on|yes|true)$/i.test(v) ? "1" : /^(0|off|no|false)$/i.test(v) ? "0" : v;

function checkObject(
  path: string,
  props: Record<string, PropSchema>,
  value: Record<string, unknown>,
  additional: PropSchema["additionalProperties"],
  out: Violation[],
  strict = false,
): void {
  const sub = (k: string): string => (path ? `${path}.${k}` : k);
  for (const [k, schema] of Object.entries(props)) {
    if (!k.endsWith("[n]")) checkProp(value[k], schema, sub(k), out, strict);
  }
  // Strict (replies): where the schema lists properties, an undeclared key is a violation unless it allows more.
  const closed = strict ? Object.keys(props).length > 0 && !additional : isDefined(additional) && !additional;
  for (const k of Object.keys(value)) {
    const schema = propertyOf(props, k);
    if (schema) {
      if (!props[k]) checkProp(value[k], schema, sub(k), out, strict);
      if (schema.requires && !isDefined(value[schema.requires])) {
        out.push({ path: sub(schema.requires), message: `missing property - '${sub(k)}' requires this property` });
      }
      continue;
    }
    if (closed) {
      out.push({
        path: sub(k),
        message: "property is not defined in schema and the schema does not allow additional properties",
      });
    } else if (typeof additional === "object" && additional) {
      checkProp(value[k], additional, sub(k), out, strict);
    }
  }
}

/** PVE::JSONSchema::check_prop: one value against one property schema. */
export function checkProp(value: unknown, schema: PropSchema, path: string, out: Violation[], strict = false): void {
  if (!isDefined(value)) {
    if (schema.type === "null") return;
    if (!schema.optional && !schema.alias) out.push({ path, message: "property is missing and it is not optional" });
    return;
  }
  if (!checkType(path, schema.type, value, out, strict)) return;
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((el, i) => checkProp(el, schema.items!, `${path}[${i}]`, out, strict));
    return;
  }
  if (typeof value === "object") {
    if (schema.properties || schema.additionalProperties) {
      checkObject(
        path,
        schema.properties ?? {},
        value as Record<string, unknown>,
        schema.additionalProperties,
        out,
        strict,
      );
    }
    return;
  }
  const s = scalarText(value);
  const fail = (message: string): void => void out.push({ path, message });
  if (schema.format) {
    const err = checkFormat(schema.format, s, path);
    if (err !== undefined) return fail(`invalid format - ${err}`);
  }
  const pattern = schema.pattern ? compilePattern(schema.pattern) : null;
  if (pattern && !pattern.test(s)) return fail("value does not match the regex pattern");
  if (isDefined(schema.maxLength) && s.length > schema.maxLength!)
    return fail(`value may only be ${schema.maxLength} characters long`);
  if (isDefined(schema.minLength) && s.length < schema.minLength!)
    return fail(`value must be at least ${schema.minLength} characters long`);
  if (NUMBER.test(s)) {
    if (isDefined(schema.maximum) && Number(s) > Number(schema.maximum))
      return fail(`value must have a maximum value of ${schema.maximum}`);
    if (isDefined(schema.minimum) && Number(s) < Number(schema.minimum))
      return fail(`value must have a minimum value of ${schema.minimum}`);
  }
  if (schema.enum && !schema.enum.includes(s)) {
    fail(`value '${s}' does not have a value in the enumeration '${schema.enum.join(", ")}'`);
  }
}

interface Trie {
  readonly literal: Map<string, Trie>;
  variable?: { readonly name: string; readonly next: Trie };
  node?: SchemaNode;
}
const newTrie = (): Trie => ({ literal: new Map() });

export class ApiSchema {
  private readonly root = newTrie();
  private readonly byTemplate = new Map<string, SchemaNode>();

  constructor(tree: readonly SchemaNode[]) {
    const add = (node: SchemaNode): void => {
      this.byTemplate.set(node.path, node);
      let t = this.root;
      for (const seg of node.path.split("/").filter(Boolean)) {
        const v = /^\{(.+)\}$/.exec(seg);
        if (v) t = (t.variable ??= { name: v[1]!, next: newTrie() }).next;
        else t = t.literal.get(seg) ?? (t.literal.set(seg, newTrie()), t.literal.get(seg)!);
      }
      t.node = node;
      node.children?.forEach(add);
    };
    tree.forEach(add);
  }

  /** The templated path for a concrete one (literal segments win over variables). */
  match(path: string): { template: string; pathParams: Record<string, string> } | undefined {
    const segs = path.split("/").filter(Boolean);
    const walk = (t: Trie, i: number, params: Record<string, string>): SchemaNode | undefined => {
      if (i === segs.length) return t.node;
      const lit = t.literal.get(segs[i]!);
      const found = lit && walk(lit, i + 1, params);
      if (found || !t.variable) return found;
      const { name, next } = t.variable;
      params[name] = decodeURIComponent(segs[i]!);
      const deeper = walk(next, i + 1, params);
      if (deeper) return deeper;
      // A volume ID may hold unescaped slashes (`local:backup/vzdump-...`): the last variable takes the rest.
      if (next.node && next.literal.size === 0 && !next.variable) {
        params[name] = segs.slice(i).map(decodeURIComponent).join("/");
        return next.node;
      }
      delete params[name];
      return undefined;
    };
    const pathParams: Record<string, string> = {};
    const node = walk(this.root, 0, pathParams);
    return node ? { template: node.path, pathParams } : undefined;
  }

  method(template: string, method: string): MethodInfo | undefined {
    return this.byTemplate.get(template)?.info?.[method as HttpMethod];
  }

  /** The schema of one parameter of a method (`net0` finds `net[n]`), or undefined when PVE would reject the name. */
  param(template: string, method: string, key: string): PropSchema | undefined {
    const props = this.method(template, method)?.parameters?.properties ?? {};
    return propertyOf(props, key);
  }

  /** The schema of one property of a method's object reply (`net0` finds `net[n]`). */
  replyProperty(template: string, method: string, key: string): PropSchema | undefined {
    return propertyOf(this.method(template, method)?.returns?.properties ?? {}, key);
  }

  /** Names of the parameters a method requires (path parameters included). */
  required(template: string, method: string): string[] {
    const props = this.method(template, method)?.parameters?.properties ?? {};
    return Object.entries(props)
      .filter(([k, s]) => !k.endsWith("[n]") && !s.optional)
      .map(([k]) => k);
  }

  templates(): string[] {
    return [...this.byTemplate.keys()];
  }

  /** Validate a request as PVE does: route, merge path params, check against `parameters`. */
  checkRequest(method: string, path: string, params: Record<string, unknown>): RequestCheck {
    const m = this.match(path);
    const info = m && this.method(m.template, method);
    if (!m || !info) return { status: 501, pathParams: m?.pathParams ?? {}, violations: [] };
    const violations: Violation[] = [];
    for (const [k, v] of Object.entries(m.pathParams)) {
      if (isDefined(params[k]) && String(params[k]) !== v)
        violations.push({ path: k, message: "parameter verification failed - value differs from the one in the URI" });
    }
    const merged = { ...params, ...m.pathParams };
    const schema = info.parameters ?? { additionalProperties: 0 };
    checkObject("", schema.properties ?? {}, merged, schema.additionalProperties ?? 0, violations);
    return { status: violations.length ? 400 : 200, template: m.template, info, pathParams: m.pathParams, violations };
  }

  /**
   * Check a reply's `data` against the method's `returns` schema. Strict: JSON types
   * (an integer is not a numeric string) and no undeclared keys where properties are listed.
   */
  checkReply(method: string, template: string, data: unknown, opts: { strict?: boolean } = {}): Violation[] {
    const returns = this.method(template, method)?.returns;
    if (!returns) return [];
    const out: Violation[] = [];
    checkProp(data, { optional: 1, ...returns }, "data", out, opts.strict ?? false);
    return out;
  }
}

/** Violations as PVE's `errors` object: param -> message (several joined by newline). */
export function violationsToErrors(violations: readonly Violation[]): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const v of violations) errors[v.path] = errors[v.path] ? `${errors[v.path]}\n${v.message}` : v.message;
  return errors;
}

const loaded = new Map<string, ApiSchema>();
function load(file: string | URL): ApiSchema {
  const key = String(file);
  let schema = loaded.get(key);
  if (!schema) {
    const bytes = readFileSync(file);
    const json = (key.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8");
    schema = new ApiSchema(JSON.parse(json) as SchemaNode[]);
    loaded.set(key, schema);
  }
  return schema;
}

/**
 * The PVE schema (pve-docs apidata.js, PVE 9.1), bundled gzipped: a clone needs
 * nothing else. LAB_PVE_SCHEMA=<apidata.json[.gz]> checks against another PVE version.
 */
export const pveSchema = (): ApiSchema =>
  load(process.env.LAB_PVE_SCHEMA || new URL("./pve-apidata.json.gz", import.meta.url));
/** The PBS schema (api-viewer apidoc.js, PBS 4.x). */
export const pbsSchema = (): ApiSchema => load(new URL("./pbs-apidata.json.gz", import.meta.url));
