// The whole lab. `lab plan` shows what would change; `lab apply` converges it.
import { definePlaybook } from "../src/index.ts";
import { base } from "../roles/base.ts";

export default definePlaybook({
  name: "site",
  plays: [
    {
      name: "base",
      hosts: "servers",
      roles: (host) => [
        base({
          domain: String(host.vars.domain),
          note: typeof host.vars.role_note === "string" ? host.vars.role_note : "lab server",
          admins: host.vars.admins as string[],
        }),
      ],
    },
  ],
});
