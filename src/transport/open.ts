// Pick the transport for a host from its connection type.
import { ExitCode, LabError } from "../errors.ts";
import type { ConnectionInfo, HostInfo } from "../engine/types.ts";
import { LocalTransport } from "./local.ts";
import { SshTransport } from "./ssh.ts";
import type { Transport } from "./types.ts";

/** `resolve` gives the connection of a host that is a VM's guest (address from the guest agent). */
export function openTransport(host: HostInfo, resolve?: () => Promise<ConnectionInfo>): Transport {
  switch (host.connection.type) {
    case "local":
      return new LocalTransport(host.name);
    case "ssh":
      return new SshTransport(host.name, host.connection.vm && resolve ? resolve : host.connection);
    case "proxmox":
      // Proxmox endpoints are driven through the API; a shell command there is a bug in a role.
      return {
        host: host.name,
        exec: () =>
          Promise.reject(
            new LabError(
              `host ${host.name} is a Proxmox API endpoint: it runs no shell commands`,
              ExitCode.failed,
              { host: host.name },
              "use Proxmox resources for this host, or add it again as an ssh host",
            ),
          ),
        close: () => Promise.resolve(),
      };
  }
}
