// Render files from templates/ with nunjucks (Jinja2 syntax, familiar to Ansible
// users). Secrets in vars are revealed into the output, and the result is then
// a Secret itself, so it is never shown in a plan diff.
import nunjucks from "nunjucks";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ExitCode, LabError } from "../errors.ts";
import { Secret, isSecret } from "../secrets/secret.ts";
import type { Renderer } from "./types.ts";

export type { Renderer } from "./types.ts";

export function templateRenderer(root: string): Renderer {
  const dir = join(root, "templates");
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(dir, { noCache: true }), {
    autoescape: false,
    throwOnUndefined: true,
    trimBlocks: true,
    lstripBlocks: true,
  });
  return (file, vars) => {
    if (!existsSync(join(dir, file))) throw new LabError(`template not found: templates/${file}`, ExitCode.badInput, { file: join(dir, file) }, "check the template path (relative to templates/)");
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
    try {
      out = env.render(file, reveal(vars) as object);
    } catch (e) {
      // nunjucks marks the position "(/path/file.njk) [Line 2, Column 1]", innermost (an include) last.
      const msg = String((e as Error).message);
      const at = [...msg.matchAll(/\(([^()\n]+)\) \[Line (\d+), Column (\d+)\]/g)].pop();
      const where = at ? { file: at[1]!, line: Number(at[2]), col: Number(at[3]) } : { file: join(dir, file) };
      throw new LabError(`template templates/${file}: ${(msg.split("\n").slice(-1)[0] ?? "").trim()}`, ExitCode.badInput, where, "a var used by the template is missing or the syntax is wrong");
    }
    return usedSecret ? new Secret(`template:${file}`, out) : out;
  };
}
