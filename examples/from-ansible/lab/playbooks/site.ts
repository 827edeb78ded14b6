// site.yml of the Ansible version. Role defaults are plain TypeScript defaults.
import { definePlaybook } from "lab";
import { nginx } from "../roles/nginx.ts";

export default definePlaybook({
  name: "site",
  plays: [
    {
      name: "web servers",
      hosts: "web",
      roles: (host) => [
        nginx({
          httpPort: typeof host.vars.http_port === "number" ? host.vars.http_port : 80,
          serverName: String(host.vars.server_name),
          webRoot: typeof host.vars.web_root === "string" ? host.vars.web_root : "/var/www/html",
        }),
      ],
    },
  ],
});
