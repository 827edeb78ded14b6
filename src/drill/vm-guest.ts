// SSH into a restored drill copy: logged in as the VM's inventory host is (user,
// key, become), at the address its guest agent reports, with the host key read
// through the agent over the pinned API and pinned in a known_hosts file of its
// own (the copy's address is not production's: the user's known_hosts is never
// touched). The file is removed when the session closes.
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ConnectionInfo, HostInfo } from "../engine/types.ts";
import type { PveApi } from "../proxmox/resources/api.ts";
import { pinGuestKey } from "../proxmox/resources/guest.ts";
import { SshTransport } from "../transport/ssh.ts";
import type { Transport } from "../transport/types.ts";

export async function openDrillGuest(
  dir: string,
  api: PveApi,
  node: string,
  vmid: number,
  address: string,
  login: ConnectionInfo,
): Promise<Transport> {
  const pins = await mkdtemp(join(dir, `known-hosts-${vmid}-`));
  const { vm: _vm, ...rest } = login;
  const connection: ConnectionInfo = { ...rest, address, knownHosts: join(pins, "known_hosts") };
  const host: HostInfo = { name: `drill copy ${vmid}`, groups: [], vars: {}, connection };
  try {
    await pinGuestKey(api, node, vmid, address, [host]);
  } catch (e) {
    await rm(pins, { recursive: true, force: true });
    throw e;
  }
  const ssh = new SshTransport(host.name, connection);
  return {
    host: ssh.host,
    exec: (command, options) => ssh.exec(command, options),
    close: async () => {
      await ssh.close().catch(() => undefined);
      await rm(pins, { recursive: true, force: true });
    },
  };
}
