// The example lab's host vars, declared once: `lab check` / `lab plan` reject a
// var in inventory/*.yaml (or -e) that is not declared here or has the wrong
// type (file:line:col, "did you mean"), and playbooks read them typed (host.vars).
import { Type, defineHostVars } from "lab";
import { dockerPlayVars } from "../roles/example-stacks.ts";

export const siteVars = defineHostVars({
  domain: Type.String({ minLength: 1, description: "Lab DNS domain (motd)." }),
  admins: Type.Array(Type.String(), { default: [], description: "Admin accounts on every server (role base)." }),
  timezone: Type.Optional(Type.String({ description: "IANA time zone, e.g. Etc/UTC." })),
  role_note: Type.String({ default: "lab server", description: "What the host is for, one line (motd)." }),
  stateful: Type.Boolean({
    default: false,
    description: "Holds data that must be backed up: lab plan fails unless backups/policy.yaml covers it.",
  }),
  ...dockerPlayVars,
});
