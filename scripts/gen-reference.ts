// docs/reference/ from the code (`npm run gen:docs`): the CLI (commands, flags),
// the exit codes, the inventory, backup policy and drill schemas, every role's
// vars. test/unit/docs/reference.test.ts regenerates it in memory and fails when
// the committed files differ.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { policySchemaJson } from "../src/backup/policy-model.ts";
import { drillsSchemaJson } from "../src/drill/model.ts";
import { inventorySchemaJson } from "../src/inventory/model.ts";
import { cliReference } from "./reference/cli-md.ts";
import { exitCodesReference } from "./reference/exit-codes-md.ts";
import { rolesReference } from "./reference/roles-md.ts";
import { schemaTables } from "./reference/schema-md.ts";

const root = join(import.meta.dirname, "..");

function schemaPage(title: string, json: string, file: string, model: string): string {
  const schema = JSON.parse(json) as Record<string, unknown>;
  return [
    `# ${title}`,
    "",
    `Generated from \`${model}\` by \`npm run gen:docs\`; do not edit. The same schema is published as [\`${file}\`](../../${file}) (\`npm run gen:schema\`).`,
    "",
    typeof schema.description === "string" ? schema.description : "",
    "",
    schemaTables(schema, { heading: "##" }),
  ]
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .replace(/\n+$/, "\n");
}

const INDEX = `# Reference

Generated from the code by \`npm run gen:docs\` (scripts/gen-reference.ts); a unit test fails when these files are stale.

- [CLI](cli.md): every command, argument and option
- [Exit codes](exit-codes.md)
- [Inventory](inventory.md): \`inventory/*.yaml\`
- [Backup policy](backup-policy.md): \`backups/policy.yaml\`
- [Drills](drills.md): \`backups/drills.yaml\`
- [Roles](roles.md): every role's vars, types and defaults
`;

/** File name (under docs/reference/) -> content. */
export async function referenceFiles(): Promise<Map<string, string>> {
  return new Map([
    ["README.md", INDEX],
    ["cli.md", await cliReference()],
    ["exit-codes.md", exitCodesReference(root)],
    ["inventory.md", schemaPage("Inventory", inventorySchemaJson(), "inventory/schema.json", "src/inventory/model.ts")],
    [
      "backup-policy.md",
      schemaPage("Backup policy", policySchemaJson(), "backups/policy.schema.json", "src/backup/policy-model.ts"),
    ],
    ["drills.md", schemaPage("Drills", drillsSchemaJson(), "backups/drills.schema.json", "src/drill/model.ts")],
    ["roles.md", await rolesReference(root)],
  ]);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const dir = join(root, "docs", "reference");
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of await referenceFiles()) writeFileSync(join(dir, name), text);
}
