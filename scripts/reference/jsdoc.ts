// Doc comments of object-literal keys in a TypeScript file (a role's
// `Type.Object({ /** doc */ key: ... })`, ExitCode's entries), read with the
// TypeScript compiler's parser rather than from help text.
import { readFileSync } from "node:fs";
import ts from "typescript";

export interface LiteralDocs {
  keys: string[];
  docs: Map<string, string>;
  values: Map<string, string>;
}

export function objectLiteralDocs(file: string): LiteralDocs[] {
  const src = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const out: LiteralDocs[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isObjectLiteralExpression(n)) {
      const lit: LiteralDocs = { keys: [], docs: new Map(), values: new Map() };
      for (const p of n.properties) {
        if (!ts.isPropertyAssignment(p) || !(ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) continue;
        const key = p.name.text;
        lit.keys.push(key);
        lit.values.set(key, p.initializer.getText(src));
        const doc = ts
          .getJSDocCommentsAndTags(p)
          .filter(ts.isJSDoc)
          .map((d) => ts.getTextOfJSDocComment(d.comment) ?? "")
          .join(" ")
          .trim();
        if (doc) lit.docs.set(key, doc);
      }
      out.push(lit);
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  return out;
}

/** The doc of `key` in the literal whose keys are exactly `keys` (undefined: none or no such literal). */
export function docLookup(
  literals: readonly LiteralDocs[],
): (keys: readonly string[], key: string) => string | undefined {
  return (keys, key) => {
    const want = [...keys].sort().join(",");
    return literals.find((l) => [...l.keys].sort().join(",") === want && l.docs.has(key))?.docs.get(key);
  };
}
