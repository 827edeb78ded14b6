// inventory/schema.json is generated from the model (src/inventory/model.ts):
// the committed file must be what `npm run gen:schema` writes today.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { inventorySchemaJson } from "../../../src/inventory/model.ts";

it("inventory/schema.json is up to date with the model (run npm run gen:schema)", () => {
  const committed = readFileSync(join(import.meta.dirname, "../../../inventory/schema.json"), "utf8");
  expect(committed).toBe(inventorySchemaJson());
});
