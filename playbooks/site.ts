// The whole lab. `lab plan` shows what would change; `lab apply` converges it:
// first Proxmox (VLANs, templates, VMs, and the PBS backups of backups/policy.yaml),
// then every server over SSH — the VMs' guests included, reached at the address
// their guest agent reports — and the database with its pgBackRest archiving.
import { definePlaybook } from "lab";
import { siteVars } from "../inventory/vars.ts";
import { base } from "../roles/base.ts";
import { demoDatabase } from "../roles/demo-database.ts";
import { dns } from "../roles/dns.ts";
import { dockerStacksFor } from "../roles/example-stacks.ts";
import { nodeExporter, nodeExporterDefaults } from "../roles/node-exporter.ts";
import { pbsBackup } from "../roles/pbs-backup.ts";
import { pgbackrestPolicyPlays } from "../roles/pgbackrest-policy.ts";
import { postgres, postgresDefaults } from "../roles/postgres.ts";
import { proxmoxLab } from "../roles/proxmox-lab.ts";
import { updates } from "../roles/updates.ts";

export default definePlaybook({
  name: "site",
  vars: siteVars,
  plays: [
    {
      name: "proxmox",
      hosts: "proxmox",
      roles: (host) => [proxmoxLab({ endpoint: host.name }), pbsBackup({ endpoint: host.name })],
    },
    {
      name: "base",
      hosts: "servers",
      roles: (host) => [base({ domain: host.vars.domain, note: host.vars.role_note, admins: host.vars.admins })],
    },
    {
      // Security updates in a nightly window (unattended-upgrades); `lab plan` shows what is pending.
      name: "updates",
      hosts: "servers:!vm_guests",
      roles: () => [updates({ window: { start: "03:30", hours: 2 }, reboot: { when: "never" } })],
    },
    {
      // A and PTR records of every host and VM (VM addresses from their guest agents), on backup1.
      name: "dns",
      hosts: "backup_hosts",
      roles: (host) => [dns({ domain: host.vars.domain, listenAddress: host.connection.address })],
    },
    {
      // Docker Engine + the Compose stacks a host's compose_stacks var names (none: nothing).
      name: "docker",
      hosts: "docker_hosts",
      roles: (host) => dockerStacksFor(host),
    },
    {
      name: "node-exporter",
      hosts: "node_exporters",
      // Its own address (the demo's hosts share one network namespace); a VM's guest: its guest agent's.
      roles: (host) => [
        nodeExporter({
          ...nodeExporterDefaults,
          ...(host.connection.vm
            ? { listen: ":9100", vm: host.connection.vm }
            : { listen: `${host.connection.address}:9100` }),
        }),
      ],
    },
    {
      name: "postgres",
      hosts: "databases",
      // Its own loopback address: the demo's hosts share this machine's network (one 5432 per address).
      roles: (host) => [
        postgres({ ...postgresDefaults, listenAddresses: host.connection.address }),
        demoDatabase({ port: postgresDefaults.port }),
      ],
    },
    // pgBackRest on the database and the backup host, from the policy's target db1-main.
    ...pgbackrestPolicyPlays({ target: "db1-main", hosts: "databases:backup_hosts" }),
  ],
});
