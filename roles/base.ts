// base: what every server in the lab has: a motd, admin accounts, the core
// packages, a heartbeat cron job, cron running and enabled.
import { defineRole, directory, file, group, packages, restartService, service, user } from "../src/index.ts";

export interface BaseVars {
  /** Lab DNS domain, shown in the motd. */
  domain: string;
  /** What this host is for (one line). */
  note: string;
  /** Admin accounts, members of group "labadmin". */
  admins: string[];
}

export const base = defineRole<BaseVars>({
  name: "base",
  schema: {
    type: "object",
    properties: {
      domain: { type: "string", minLength: 1 },
      note: { type: "string" },
      admins: { type: "array", items: { type: "string", pattern: "^[a-z_][a-z0-9_-]*$" } },
    },
    required: ["domain", "note", "admins"],
    additionalProperties: false,
  },
  resources: (v, host, lab) => ({
    resources: [
      packages({ names: ["cron", "procps", "sudo"] }),
      file({ path: "/etc/motd", content: lab.template("motd.njk", { host: host.name, domain: v.domain, note: v.note }), mode: "0644" }),
      group({ name: "labadmin" }),
      ...v.admins.map((name) => user({ name, shell: "/bin/bash", groups: ["labadmin"] })),
      file({ path: "/etc/sudoers.d/labadmin", content: "%labadmin ALL=(ALL) NOPASSWD: ALL\n", mode: "0440" }),
      directory({ path: "/var/lib/lab", mode: "0755" }),
      file({ path: "/etc/cron.d/lab-heartbeat", content: "*/5 * * * * root date -u +%FT%TZ > /var/lib/lab/heartbeat\n", mode: "0644" }, { notify: ["restart cron"] }),
      service({ name: "cron", state: "started", enabled: true }),
    ],
    handlers: [restartService("cron")],
  }),
});
