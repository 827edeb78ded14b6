// base: what every server in the lab has: a motd, admin accounts, the core
// packages, a heartbeat cron job, cron running and enabled.
import { Type, defineRole, directory, file, group, packages, restartService, service, user, type Static } from "lab";

export const BaseVars = Type.Object(
  {
    /** Lab DNS domain, shown in the motd. */
    domain: Type.String({ minLength: 1, description: "Lab DNS domain, shown in the motd." }),
    /** What this host is for (one line). */
    note: Type.String({ description: "What this host is for (one line)." }),
    /** Admin accounts, members of group "labadmin". */
    admins: Type.Array(Type.String({ pattern: "^[a-z_][a-z0-9_-]*$" }), {
      description: "Admin accounts, members of group labadmin.",
    }),
  },
  { additionalProperties: false },
);
export type BaseVars = Static<typeof BaseVars>;

export const base = defineRole({
  name: "base",
  vars: BaseVars,
  resources: (v, host, lab) => ({
    resources: [
      packages({ names: ["cron", "procps", "sudo"] }),
      file({
        path: "/etc/motd",
        content: lab.template("motd.njk", { host: host.name, domain: v.domain, note: v.note }),
        mode: "0644",
      }),
      group({ name: "labadmin" }),
      ...v.admins.map((name) => user({ name, shell: "/bin/bash", groups: ["labadmin"] })),
      // visudo checks the staged copy: a broken sudoers file would lock every admin out of sudo.
      file({
        path: "/etc/sudoers.d/labadmin",
        content: "%labadmin ALL=(ALL) NOPASSWD: ALL\n",
        mode: "0440",
        validate: "visudo -cf %s",
      }),
      directory({ path: "/var/lib/lab", mode: "0755" }),
      file(
        {
          path: "/etc/cron.d/lab-heartbeat",
          content: "*/5 * * * * root date -u +%FT%TZ > /var/lib/lab/heartbeat\n",
          mode: "0644",
        },
        { notify: ["restart cron"] },
      ),
      service({ name: "cron", state: "started", enabled: true }),
    ],
    handlers: [restartService("cron")],
  }),
});
