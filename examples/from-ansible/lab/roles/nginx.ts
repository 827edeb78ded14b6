// roles/nginx/{defaults,tasks,handlers} of the Ansible version, as one typed role.
import { Type, defineRole, file, packages, restartService, service, type Static } from "lab";

// The role's vars, declared once: their TypeScript type and their run-time check.
export const NginxVars = Type.Object({
  httpPort: Type.Integer({ minimum: 1, maximum: 65535 }),
  serverName: Type.String({ minLength: 1 }),
  webRoot: Type.String({ pattern: "^/" }),
}, { additionalProperties: false });
export type NginxVars = Static<typeof NginxVars>;

export const nginx = defineRole({
  name: "nginx", // also a tag, like `tags: [nginx]` on the role in site.yml
  vars: NginxVars,
  resources: (v, _host, lab) => ({
    resources: [
      packages({ names: ["nginx"] }),
      file(
        {
          path: "/etc/nginx/sites-enabled/default",
          content: lab.template("nginx/site.conf.njk", { http_port: v.httpPort, server_name: v.serverName, web_root: v.webRoot }),
          mode: "0644",
        },
        { notify: ["restart nginx"], tags: ["config"] },
      ),
      service({ name: "nginx", state: "started", enabled: true }),
    ],
    handlers: [restartService("nginx")],
  }),
});
