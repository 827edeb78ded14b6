// Ansible's YAML inventory format (plugins/inventory/yaml.py): top-level keys
// are groups; a group has `hosts` (name or pattern -> vars), `vars` and
// `children` (groups, recursively). Read as Ansible reads YAML: YAML 1.1
// (yes/no booleans, 0777 octal), `!vault` and `!unsafe` tags, later duplicate
// keys win. Positions are kept for messages.
import { isAlias, isMap, isScalar, LineCounter, parseDocument, type Document, type Node, type Tags } from "yaml";
import { badInput } from "../errors.ts";
import { AnsibleInventory, Vaulted, type Origin } from "./ansible-model.ts";
import { expandHostPattern } from "./host-pattern.ts";

export interface AnsibleYaml {
  doc: Document;
  /** 1-based line of a node. */
  line(node: unknown): number | undefined;
  /** The JavaScript value of a node (vault values as Vaulted). */
  value(node: unknown): unknown;
}

const ansibleTags = (tags: Tags): Tags => [
  // PyYAML turns timestamps into dates that ansible-inventory prints back as written: keep strings.
  ...tags.filter((t) => t !== "timestamp" && (typeof t !== "object" || t.tag !== "tag:yaml.org,2002:timestamp")),
  { tag: "!vault", resolve: (s: string) => new Vaulted(s) },
  { tag: "!vault-encrypted", resolve: (s: string) => new Vaulted(s) },
  { tag: "!unsafe", resolve: (s: string) => s },
];

export function readAnsibleYaml(file: string, text: string): AnsibleYaml {
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    version: "1.1",
    customTags: ansibleTags,
    lineCounter: lc,
    uniqueKeys: false,
    prettyErrors: false,
  });
  const err = doc.errors[0];
  if (err) {
    const pos = lc.linePos(err.pos[0]);
    throw badInput(
      `invalid YAML: ${err.message.split("\n")[0]}`,
      { file, line: pos.line, col: pos.col },
      "fix the YAML syntax at that position",
    );
  }
  const line = (node: unknown) => {
    const r = (node as Node | undefined)?.range;
    return r ? lc.linePos(r[0]).line : undefined;
  };
  const value = (node: unknown): unknown => {
    try {
      return (node as Node | null)?.toJS(doc, { maxAliasCount: 100 }) ?? null;
    } catch (e) {
      throw badInput(`invalid YAML: ${(e as Error).message}`, { file, ...(line(node) ? { line: line(node) } : {}) });
    }
  };
  return { doc, line, value };
}

/** A YAML inventory whose first line is a mapping with `plugin:` is a dynamic plugin's config. */
export function pluginName(y: AnsibleYaml): string | undefined {
  const p = isMap(y.doc.contents) ? y.doc.contents.get("plugin") : undefined;
  return typeof p === "string" && p ? p : undefined;
}

interface Entry {
  key: unknown;
  value: unknown;
}

const derefNode = (y: AnsibleYaml, node: unknown): unknown => (isAlias(node) ? (node.resolve(y.doc) ?? null) : node);

/** A vars mapping as Ansible sees it (aliases and `<<` merge keys resolved), each var with its line when it has one. */
export function varsOfMap(y: AnsibleYaml, file: string, node: unknown, fallback: Origin): [string, unknown, Origin][] {
  const obj = y.value(node) as Record<string, unknown>;
  const map = derefNode(y, node);
  const lines = new Map(
    (isMap(map) ? map.items : []).map((p) => {
      const line = y.line(p.key);
      return [String(y.value(p.key)), line ? { file, line } : fallback] as const;
    }),
  );
  return Object.entries(obj).map(([k, v]) => [k, v, lines.get(k) ?? fallback]);
}
const SECTIONS = ["vars", "children", "hosts"];

export function parseYamlInventory(
  file: string,
  y: AnsibleYaml,
  inv: AnsibleInventory,
  warn: (o: Origin, message: string) => void,
): void {
  const root = y.doc.contents;
  const origin = (node: unknown): Origin => ({ file, ...(y.line(node) ? { line: y.line(node) } : {}) });
  if (root === null || (isScalar(root) && root.value === null)) throw badInput("Parsed empty YAML file", { file });
  if (!isMap(root))
    throw badInput(
      "YAML inventory has invalid structure, it should be a dictionary",
      origin(root),
      "top-level keys are group names, such as all:",
    );
  const keyName = (p: Entry): string => String(y.value(p.key));
  const deref = (node: unknown): unknown => derefNode(y, node);
  const varsOf = (node: unknown, fallback: Origin) => varsOfMap(y, file, node, fallback);

  const parseGroup = (name: string, node: unknown, at: Origin): void => {
    const data = deref(node);
    if (data !== null && !isMap(data) && !(isScalar(data) && data.value === null)) {
      warn(at, `skipping '${name}' as this is not a valid group definition`);
      return;
    }
    inv.addGroup(name, at);
    if (!isMap(data)) return;
    for (const pair of data.items) {
      const key = keyName(pair);
      const o = origin(pair.key);
      const section: unknown = deref(pair.value);
      if (section === null || (isScalar(section) && section.value === null)) continue;
      // `hosts: web1` is `hosts: {web1: null}`.
      const entries: Entry[] | undefined = isMap(section)
        ? section.items
        : isScalar(section) && typeof section.value === "string" && SECTIONS.includes(key)
          ? [{ key: section, value: null }]
          : undefined;
      if (!entries) {
        if (SECTIONS.includes(key))
          throw badInput(
            `Invalid "${key}" entry for "${name}" group, requires a dictionary`,
            o,
            `write ${key}: as a mapping`,
          );
        warn(o, `skipping key (${key}) in group (${name}) as it is not a mapping`);
        continue;
      }
      if (key === "vars") {
        for (const [k, v, vo] of varsOf(section, o)) inv.setVar("group", name, k, v, vo);
      } else if (key === "children") {
        for (const c of entries) {
          const child = keyName(c);
          parseGroup(child, c.value ?? null, origin(c.key));
          inv.addChild(name, child, origin(c.key));
        }
      } else if (key === "hosts") {
        for (const h of entries) {
          const pattern = y.value(h.key);
          const ho = origin(h.key);
          if (typeof pattern !== "string")
            throw badInput(
              `Host pattern ${String(pattern)} must be a string. Enclose integers/floats in quotation marks.`,
              ho,
              "quote the host name",
            );
          let expanded;
          try {
            expanded = expandHostPattern(pattern);
          } catch (e) {
            throw badInput((e as Error).message, ho, "ranges look like web[01:03] or db-[a:c]");
          }
          const hv = deref(h.value);
          const vars = hv === null || (isScalar(hv) && hv.value === null) ? undefined : hv;
          if (vars !== undefined && !isMap(vars))
            throw badInput(
              `Invalid data for host ${pattern}, expected a dictionary of vars`,
              ho,
              "write host vars as a mapping",
            );
          for (const host of expanded.hosts) {
            inv.addHost(host, name, ho, expanded.port);
            for (const [k, v, vo] of vars ? varsOf(vars, ho) : []) inv.setVar("host", host, k, v, vo);
          }
        }
      } else {
        warn(o, `skipping unexpected key (${key}) in group (${name}), only "vars", "children" and "hosts" are valid`);
      }
    }
  };
  for (const pair of root.items) parseGroup(keyName(pair), pair.value ?? null, origin(pair.key));
}
