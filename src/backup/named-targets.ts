// backups/policy.yaml and backups/drills.yaml both list their targets by kind, each
// a map by target name (the same names in both files): declared once here.
import { Type, type TSchema } from "@sinclair/typebox";
import { named } from "../inventory/model.ts";

/** `postgres:` and `vms:`, optional maps from target name to the given item, each with its description. */
export function namedTargets<P extends TSchema, V extends TSchema>(
  postgres: { item: P; description: string },
  vms: { item: V; description: string },
) {
  return {
    postgres: Type.Optional(named(postgres.item, postgres.description)),
    vms: Type.Optional(named(vms.item, vms.description)),
  };
}
