// The whole lab. `lab plan` shows what would change; `lab apply` converges it:
// first Proxmox (VLANs, templates, VMs), then every server over SSH — the VMs'
// guests included, reached at the address their guest agent reports.
import { definePlaybook } from "../src/index.ts";
import { base } from "../roles/base.ts";
import { proxmoxLab } from "../roles/proxmox-lab.ts";
import { dockerStacksFor } from "../roles/compose-stack.ts";

export default definePlaybook({
  name: "site",
  plays: [
    {
      name: "proxmox",
      hosts: "proxmox",
      roles: (host) => [proxmoxLab({ endpoint: host.name })],
    },
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
    {
      // Docker Engine + the Compose stacks a host's compose_stacks var names (none: nothing).
      name: "docker",
      hosts: "docker_hosts",
      roles: (host) => dockerStacksFor(host),
    },
  ],
});
