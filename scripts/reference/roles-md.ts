// Every role in roles/*.ts: each export made by defineRole (it carries roleName
// and varsSchema), its vars from the TypeBox schema, doc comments from the source
// where the schema has no description, and defaults from `<export>Defaults`
// when the module exports one (the project's convention, e.g. dockerHostDefaults).
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { TSchema } from "@sinclair/typebox";
import { docLookup, objectLiteralDocs } from "./jsdoc.ts";
import { schemaTables } from "./schema-md.ts";

interface RoleExport {
  roleName: string;
  varsSchema: TSchema;
}
const isRole = (v: unknown): v is RoleExport =>
  typeof v === "function" &&
  typeof (v as Partial<RoleExport>).roleName === "string" &&
  typeof (v as Partial<RoleExport>).varsSchema === "object";

export async function rolesReference(root: string): Promise<string> {
  const out = [
    "# Roles",
    "",
    "Generated from `roles/*.ts` by `npm run gen:docs`; do not edit. A role's vars are checked against this schema before any host is contacted (exit 2).",
    "",
  ];
  const files = readdirSync(join(root, "roles"))
    .filter((f) => f.endsWith(".ts"))
    .sort();
  for (const f of files) {
    const file = join(root, "roles", f);
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const doc = docLookup(objectLiteralDocs(file));
    for (const [exportName, v] of Object.entries(mod).sort(([a], [b]) => a.localeCompare(b))) {
      if (!isRole(v)) continue;
      const defaults = mod[`${exportName}Defaults`];
      out.push(`## ${v.roleName} (\`roles/${f}\`, export \`${exportName}\`)`, "");
      out.push(
        schemaTables(v.varsSchema, {
          heading: "###",
          doc,
          ...(typeof defaults === "object" && defaults !== null
            ? { defaults: defaults as Record<string, unknown> }
            : {}),
        }),
      );
    }
  }
  return `${out.join("\n").replace(/\n+$/, "")}\n`;
}
