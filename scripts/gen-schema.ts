// inventory/schema.json from the model (src/inventory/model.ts): `npm run gen:schema`.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { inventorySchemaJson } from "../src/inventory/model.ts";

writeFileSync(join(import.meta.dirname, "..", "inventory", "schema.json"), inventorySchemaJson());
