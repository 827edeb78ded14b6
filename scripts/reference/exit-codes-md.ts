// The exit codes: ExitCode in src/errors.ts, each with its doc comment.
import { join } from "node:path";
import { ExitCode } from "../../src/errors.ts";
import { objectLiteralDocs } from "./jsdoc.ts";

export function exitCodesReference(root: string): string {
  const lit = objectLiteralDocs(join(root, "src/errors.ts")).find(
    (l) => l.keys.includes("badInput") && l.keys.includes("ok"),
  );
  if (!lit) throw new Error("src/errors.ts: the ExitCode object literal was not found");
  const rows = Object.entries(ExitCode)
    .sort(([, a], [, b]) => a - b)
    .map(
      ([name, n]) =>
        `| ${n} | \`${name}\` | ${(lit.docs.get(name) ?? (n === 0 ? "Success." : "")).replace(/\|/g, "\\|")} |`,
    );
  return [
    "# Exit codes",
    "",
    "Generated from `ExitCode` in `src/errors.ts` by `npm run gen:docs`; do not edit. Only `src/cli/main.ts` turns an error into one of these.",
    "",
    "| code | name | meaning |",
    "|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}
