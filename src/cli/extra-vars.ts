// --extra-vars, as in Ansible: key=value, a JSON/YAML object, or @file.yaml.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { badInput } from "../errors.ts";

export function parseExtraVars(values: string[]): Record<string, unknown> {
  let out: Record<string, unknown> = {};
  for (const v of values) {
    if (v.startsWith("@")) {
      let text: string;
      try {
        text = readFileSync(v.slice(1), "utf8");
      } catch {
        throw badInput(`--extra-vars: cannot read ${v.slice(1)}`, {}, "give an existing YAML or JSON file after @");
      }
      out = { ...out, ...object(parse(text), v) };
    } else if (v.trimStart().startsWith("{")) {
      out = { ...out, ...object(parse(v), v) };
    } else {
      const eq = v.indexOf("=");
      if (eq <= 0)
        throw badInput(
          `--extra-vars: "${v}" is not key=value, JSON or @file`,
          {},
          'e.g. -e motd=hello or -e \'{"motd":"hello"}\'',
        );
      out[v.slice(0, eq)] = v.slice(eq + 1);
    }
  }
  return out;
}

function object(x: unknown, src: string): Record<string, unknown> {
  if (!x || typeof x !== "object" || Array.isArray(x)) throw badInput(`--extra-vars ${src}: must be a mapping`);
  return x as Record<string, unknown>;
}
