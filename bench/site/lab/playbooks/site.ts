// The benchmark's site playbook, lab side. bench/site/ansible/site.yml is the same
// thing for ansible-playbook; bench/bench.ts checks that both leave identical hosts.
import {
  Type,
  definePlaybook,
  defineHostVars,
  defineRole,
  directory,
  file,
  line,
  packages,
  restartService,
  service,
} from "../../../../src/index.ts";

const vars = Type.Object(
  { motd: Type.String(), tier: Type.String(), services: Type.Array(Type.String()) },
  { additionalProperties: false },
);

const base = defineRole({
  name: "base",
  vars,
  resources: (v, host, lab) => ({
    resources: [
      packages({ names: ["cron", "procps"] }),
      directory({ path: "/etc/bench", mode: "0755" }),
      file({ path: "/etc/bench/motd", content: lab.template("motd.njk", { ...v, host: host.name }), mode: "0644" }),
      file({ path: "/etc/bench/static.conf", content: "# managed by the benchmark\nlevel=3\n", mode: "0644" }),
      line({ path: "/etc/bench/settings.conf", line: "mode=managed", regexp: "^mode=", create: true }),
      file(
        {
          path: "/etc/cron.d/bench-heartbeat",
          content: "*/5 * * * * root date > /tmp/bench-heartbeat\n",
          mode: "0644",
        },
        { notify: ["restart cron"] },
      ),
      service({ name: "cron", state: "started", enabled: true }),
    ],
    handlers: [restartService("cron")],
  }),
});

export default definePlaybook({
  name: "bench-site",
  vars: defineHostVars(vars.properties),
  plays: [
    {
      name: "site",
      hosts: "all",
      roles: (h) => [base(h.vars)],
    },
  ],
});
