// The Proxmox client is a layer below the engine: nothing it imports, directly
// or through other modules, is under src/engine/ (shared types live in leaves
// such as src/log.ts).
import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../../..");

/** Every project file reachable through relative imports (type-only ones included). */
function reachable(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of readFileSync(file, "utf8").matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.[^"]+)"/gms))
      visit(resolve(dirname(file), m[1]!));
  };
  visit(resolve(ROOT, entry));
  return [...seen].map((f) => relative(ROOT, f)).sort();
}

it.each(["src/proxmox/client.ts", "src/proxmox/resources/api.ts"])("%s imports nothing from src/engine/", (entry) => {
  const files = reachable(entry);
  expect(files).toContain("src/proxmox/transport.ts");
  expect(files.filter((f) => f.startsWith("src/engine/"))).toEqual([]);
});
