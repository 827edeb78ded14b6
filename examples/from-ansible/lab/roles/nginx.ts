// roles/nginx/{defaults,tasks,handlers} of the Ansible version, as one typed role.
import { defineRole, file, packages, restartService, service } from "../../../../src/index.ts";

export interface NginxVars {
  httpPort: number;
  serverName: string;
  webRoot: string;
}

export const nginx = defineRole<NginxVars>({
  name: "nginx", // also a tag, like `tags: [nginx]` on the role in site.yml
  schema: {
    type: "object",
    properties: {
      httpPort: { type: "integer", minimum: 1, maximum: 65535 },
      serverName: { type: "string", minLength: 1 },
      webRoot: { type: "string", pattern: "^/" },
    },
    required: ["httpPort", "serverName", "webRoot"],
    additionalProperties: false,
  },
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
