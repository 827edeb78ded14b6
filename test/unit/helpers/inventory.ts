// An inventory from YAML text, exactly as loadInventory builds it minus the disk.
import { resolveInventory, type Inventory } from "../../../src/inventory/inventory.ts";
import { validateInventoryFile } from "../../../src/inventory/validate.ts";
import { parseYaml } from "../../../src/inventory/yaml-source.ts";

/** Files (name -> YAML, read as /inv/<name>) -> an inventory; the project root is /project. */
export function inventoryOf(files: Record<string, string>, extraVars?: Record<string, unknown>): Inventory {
  const sources = Object.entries(files).map(([f, text]) => validateInventoryFile(parseYaml(`/inv/${f}`, text)));
  return resolveInventory(sources, { path: "/inv", root: "/project", ...(extraVars ? { extraVars } : {}) });
}
