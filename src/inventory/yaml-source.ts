// YAML parsing that keeps positions, so every inventory error names file:line:col.
import { readFile } from "node:fs/promises";
import { LineCounter, parseDocument, isNode, type Document } from "yaml";
import { ExitCode, badInput, LabError } from "../errors.ts";

export interface YamlSource {
  file: string;
  doc: Document;
  data: unknown;
  /** Position of the value at a JSON path (or of its closest existing parent). */
  position(path: readonly (string | number)[], at?: "key" | "value"): { line: number; col: number };
}

export async function readYaml(file: string, hint = "check the --inventory path"): Promise<YamlSource> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw badInput(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file }, hint);
  }
  return parseYaml(file, text);
}

export function parseYaml(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const first = doc.errors[0];
  if (first) {
    const pos = lineCounter.linePos(first.pos[0]);
    const msg = first.code === "DUPLICATE_KEY" ? "duplicate key in the same mapping" : first.message.split("\n")[0];
    throw badInput(
      `invalid YAML: ${msg}`,
      { file, line: pos.line, col: pos.col },
      "fix the YAML syntax at that position",
    );
  }
  const position = (
    path: readonly (string | number)[],
    at: "key" | "value" = "value",
  ): { line: number; col: number } => {
    if (at === "key" && path.length > 0) {
      const key = keyNode(doc.getIn(path.slice(0, -1), true), path[path.length - 1]);
      if (key !== undefined) return lineCounter.linePos(key);
    }
    for (let n = path.length; n >= 0; n--) {
      const node: unknown = doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]);
      // A key's own position is better than its parent's when the value is missing.
      if (n > 0) {
        const parent: unknown = doc.getIn(path.slice(0, n - 1), true);
        const key = keyNode(parent, path[n - 1]);
        if (key) return lineCounter.linePos(key);
      }
    }
    return { line: 1, col: 1 };
  };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (e) {
    throw new LabError(`invalid YAML: ${String(e)}`, ExitCode.badInput, { file });
  }
  return { file, doc, data, position };
}

function keyNode(parent: unknown, key: string | number | undefined): number | undefined {
  if (!parent || typeof parent !== "object" || !("items" in parent) || !Array.isArray(parent.items)) return undefined;
  for (const item of parent.items as { key?: { value?: unknown; range?: [number, number, number] } }[]) {
    if (item.key && item.key.value === key && item.key.range) return item.key.range[0];
  }
  return undefined;
}
