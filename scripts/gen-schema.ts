// The published JSON Schemas, generated from their models (`npm run gen:schema`):
// inventory/schema.json (src/inventory/model.ts) and backups/policy.schema.json
// (src/backup/policy-model.ts), backups/drills.schema.json (src/drill/model.ts),
// docs/schema/lab.config.schema.json (src/config/project-config.ts).
// A unit test fails when a committed file is stale.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { policySchemaJson } from "../src/backup/policy-model.ts";
import { drillsSchemaJson } from "../src/drill/model.ts";
import { inventorySchemaJson } from "../src/inventory/model.ts";
import { projectConfigSchemaJson } from "../src/config/project-config.ts";

const root = join(import.meta.dirname, "..");
writeFileSync(join(root, "inventory", "schema.json"), inventorySchemaJson());
writeFileSync(join(root, "backups", "policy.schema.json"), policySchemaJson());
writeFileSync(join(root, "backups", "drills.schema.json"), drillsSchemaJson());
writeFileSync(join(root, "docs", "schema", "lab.config.schema.json"), projectConfigSchemaJson());
