// `lab apply FILE`: the argument is a saved plan when it is not a playbook (.ts/.js) and
// holds JSON. Its playbook and selection are fixed: flags that would change them are refused.
import { existsSync, readFileSync, statSync } from "node:fs";
import { badInput } from "../errors.ts";
import { parsePlan, type SavedPlan } from "../engine/saved-plan.ts";

export function readSavedPlan(path: string, o: Record<string, unknown>): { file: string; plan: SavedPlan } | undefined {
  if (/\.[mc]?[tj]s$/.test(path) || !existsSync(path) || !statSync(path).isFile()) return undefined;
  const text = readFileSync(path, "utf8");
  if (!text.trimStart().startsWith("{")) return undefined;
  const plan = parsePlan(path, text);
  const fixed = [
    ["--limit", o.limit],
    ["--tags", (o.tags as string[] | undefined)?.length],
    ["--skip-tags", (o.skipTags as string[] | undefined)?.length],
    ["--extra-vars", (o.extraVars as string[] | undefined)?.length],
  ].filter(([, v]) => v);
  if (fixed.length)
    throw badInput(
      `${fixed.map(([f]) => String(f)).join(", ")}: a saved plan fixes the hosts, tags and vars it was made with`,
      { file: path },
      "make a new plan with these flags: lab plan -o FILE ...",
    );
  return { file: path, plan };
}
