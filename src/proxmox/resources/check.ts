// Proxmox resources check their wants as the core resources do (src/resources/options.ts):
// one TypeBox declaration per resource gives its type and this check, run when the
// playbook is expanded, so a misspelled or mistyped option is exit 2 at the role's
// line before any API is contacted.
import type { TSchema } from "@sinclair/typebox";
import { checkOptions } from "../../resources/options.ts";

export const checkWant = (kind: string, schema: TSchema, want: unknown): void =>
  checkOptions(kind, schema, want, {}, "src/proxmox/resources/");
