// The committed API types are what the bundled schema generates: after a schema
// update, `npx tsx src/proxmox/api-types/generate.ts` rewrites them.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generate, readTree, TARGETS } from "../../../src/proxmox/api-types/generate.ts";
import { pveSchema } from "../../../src/proxmox/schema.ts";

describe("generated API types", () => {
  it.each(TARGETS.map((t) => [t.name, t] as const))("%s is up to date with its schema", (_name, t) => {
    expect(readFileSync(t.out, "utf8")).toBe(generate(readTree(t.schema), t.name, t.source));
  });

  it("hold every path and method of the PVE schema", () => {
    const text = readFileSync(TARGETS[0].out, "utf8");
    const schema = pveSchema();
    const missing = schema
      .templates()
      .filter(
        (p) =>
          ["GET", "POST", "PUT", "DELETE"].some((m) => schema.method(p, m)) &&
          !text.includes(`\n  ${JSON.stringify(p)}: {\n`),
      );
    expect(missing).toEqual([]);
    expect(schema.templates().length).toBeGreaterThan(400);
  });
});
