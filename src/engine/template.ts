// Render files from templates/ with nunjucks (Jinja2 syntax, familiar to Ansible
// users). Secrets in vars are revealed into the output, and the result is then
// a Secret itself, so it is never shown in a plan diff.
import nunjucks from "nunjucks";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ExitCode, LabError } from "../errors.ts";
import { Secret, isSecret } from "../secrets/secret.ts";
import type { Renderer } from "./types.ts";
import { MANDATORY, addAnsibleFilters } from "./template-filters.ts";

export type { Renderer } from "./types.ts";

export function templateRenderer(root: string): Renderer {
  const dir = join(root, "templates");
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(dir, { noCache: true }), {
    autoescape: false,
    throwOnUndefined: true,
    trimBlocks: true,
    lstripBlocks: true,
  });
  addAnsibleFilters(env);
  return (file, vars) => {
    if (!existsSync(join(dir, file)))
      throw new LabError(
        `template not found: templates/${file}`,
        ExitCode.badInput,
        { file: join(dir, file) },
        "check the template path (relative to templates/)",
      );
    let usedSecret = false;
    const reveal = (v: unknown): unknown => {
      if (isSecret(v)) {
        usedSecret = true;
        return v.reveal();
      }
      if (Array.isArray(v)) return v.map(reveal);
      if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)]));
      return v;
    };
    let out: string;
    const context = reveal(vars) as Record<string, unknown>;
    try {
      out = env.render(file, context);
    } catch (e) {
      // nunjucks marks the position "(/path/file.njk) [Line 2, Column 1]", innermost (an include) last.
      const msg = String((e as Error).message);
      const at = [...msg.matchAll(/\(([^()\n]+)\) \[Line (\d+), Column (\d+)\]/g)].pop();
      let where: { file: string; line?: number; col?: number } = at
        ? { file: at[1]!, line: Number(at[2]), col: Number(at[3]) }
        : { file: /^\(([^()\n]+)\)/.exec(msg)?.[1] ?? join(dir, file) };
      let reason = (msg.split("\n").slice(-1)[0] ?? "").trim().replace(/^(Lab)?Error: /, "");
      const expr = where.line ? expressionAt(where.file, where.line, where.col ?? 1) : undefined;
      if (expr && /null or undefined/.test(reason)) reason = `{{ ${expr} }} is undefined (or null)`;
      const missing = reason === MANDATORY ? firstMissingMandatory(where.file, context) : undefined;
      if (missing) {
        reason = `mandatory variable ${missing.name} is not defined`;
        where = { file: where.file, line: missing.line, col: missing.col };
      }
      throw new LabError(
        `template templates/${file}: ${reason}`,
        ExitCode.badInput,
        where,
        "a var used by the template is missing or the syntax is wrong",
      );
    }
    return usedSecret ? new Secret(`template:${file}`, out) : out;
  };
}

/** The `{{ ... }}` expression nunjucks points at (its position is that of the opening braces). */
function expressionAt(file: string, line: number, col: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8").split("\n")[line - 1] ?? "";
  } catch {
    return undefined;
  }
  const open = text.lastIndexOf("{{", Math.max(0, col - 1) + 1);
  const start = open >= 0 ? open : text.indexOf("{{");
  const end = start >= 0 ? text.indexOf("}}", start) : -1;
  return end > start
    ? text
        .slice(start + 2, end)
        .trim()
        .replace(/^-|-$/g, "")
        .trim()
    : undefined;
}

/** nunjucks gives no position for a filter's error: find the `x | mandatory` whose x is undefined. */
function firstMissingMandatory(
  file: string,
  context: Record<string, unknown>,
): { name: string; line: number; col: number } | undefined {
  let lines: string[];
  try {
    lines = readFileSync(file, "utf8").split("\n");
  } catch {
    return undefined;
  }
  for (const [i, text] of lines.entries()) {
    for (const m of text.matchAll(/([A-Za-z_][\w.]*)\s*\|\s*mandatory\b/g)) {
      let v: unknown = context;
      for (const k of m[1]!.split(".")) v = v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
      if (v === undefined || v === null) return { name: m[1]!, line: i + 1, col: m.index + 1 };
    }
  }
  return undefined;
}
