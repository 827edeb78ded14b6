// The whole lab. `lab plan` shows what would change; `lab apply` converges it:
// first Proxmox (VLANs, templates, VMs), then every server over SSH — the VMs'
// guests included, reached at the address their guest agent reports.
import { definePlaybook } from "../src/index.ts";
import { siteVars } from "../inventory/vars.ts";
import { base } from "../roles/base.ts";
import { proxmoxLab } from "../roles/proxmox-lab.ts";
import { dockerStacksFor } from "../roles/example-stacks.ts";

export default definePlaybook({
  name: "site",
  vars: siteVars,
  plays: [
    {
      name: "proxmox",
      hosts: "proxmox",
      roles: (host) => [proxmoxLab({ endpoint: host.name })],
    },
    {
      name: "base",
      hosts: "servers",
      roles: (host) => [base({ domain: host.vars.domain, note: host.vars.role_note, admins: host.vars.admins })],
    },
    {
      // Docker Engine + the Compose stacks a host's compose_stacks var names (none: nothing).
      name: "docker",
      hosts: "docker_hosts",
      roles: (host) => dockerStacksFor(host),
    },
  ],
});
