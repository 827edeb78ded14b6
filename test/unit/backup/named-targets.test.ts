// backups/policy.yaml and backups/drills.yaml name their targets the same way: one
// declaration (namedTargets) gives both files their postgres:/vms: maps.
import { describe, expect, it } from "vitest";
import { PolicyFile } from "../../../src/backup/policy-model.ts";
import { DrillsFile } from "../../../src/drill/model.ts";

describe("namedTargets", () => {
  it.each([
    ["policy", PolicyFile],
    ["drills", DrillsFile],
  ])("%s: postgres and vms are maps by target name with the same name rule", (_, schema) => {
    for (const kind of ["postgres", "vms"] as const) {
      const map = schema.properties[kind] as unknown as { propertyNames: unknown; additionalProperties: unknown };
      expect(map.propertyNames).toEqual(
        (PolicyFile.properties[kind] as unknown as { propertyNames: unknown }).propertyNames,
      );
      expect(typeof (map.propertyNames as { pattern?: unknown }).pattern).toBe("string");
      expect(map.additionalProperties).toBeTypeOf("object");
    }
  });
});
