// Guests of lab's VMs as SSH hosts: the address comes from the guest agent, and
// the SSH host key is read through the agent (over the pinned API) and pinned
// before the first SSH connection — no trust on first use.
import type { GuestResolver, ServiceCtx } from "../../engine/context.ts";
import type { Secret } from "../../secrets/secret.ts";
import type { HostInfo } from "../../engine/types.ts";
import type { LabModel } from "../../inventory/model.ts";
import { ExitCode, LabError, NotCreatedYetError } from "../../errors.ts";
import { appendKnownHost, findKeys, readKnownHosts } from "../../transport/known-hosts.ts";
import type { PveApi } from "./api.ts";
import { pveService, type PveEndpoint } from "./connect.ts";
import { agentIpv4, isTemplate, listVms } from "./find.ts";

/** The endpoint a VM lives on (through its template). */
export function endpointOfVm(lab: LabModel, vm: string): { name: string; ep: PveEndpoint } {
  const t = lab.templates[lab.vms[vm]?.template ?? ""];
  const ep = t ? lab.proxmox[t.endpoint] : undefined;
  if (!t || !ep) throw new LabError(`VM ${vm} is not in the inventory's vms:/templates:/proxmox:`, ExitCode.badInput);
  return { name: t.endpoint, ep };
}

/** The VM's address; it is looked up on every node of the endpoint's cluster (VM names are unique there). */
export async function guestAddress(api: PveApi, vm: string): Promise<{ vmid: number; node: string; ip: string }> {
  const found = (await listVms(api, { current: true })).find((v) => v.name === vm && !isTemplate(v));
  if (!found)
    throw new NotCreatedYetError(
      vm,
      `VM ${vm} does not exist on ${api.endpoint} yet`,
      "the Proxmox play creates it; plan again after apply",
    );
  const ip = await agentIpv4(api, found.node, found.vmid);
  if (!ip) throw new LabError(`VM ${vm}: the guest agent reports no IPv4 address`, ExitCode.unreachable, { host: vm });
  return { vmid: found.vmid, node: found.node, ip };
}

/** How the run context reaches a host whose connection names a VM (passed in as its GuestResolver). */
export const guestResolver: GuestResolver = async (run, ctx, host) => {
  const vm = host.connection.vm!;
  const { name, ep } = endpointOfVm(run.lab, vm);
  const api = await pveService(name, ep, run.secret(ep.token_secret), run.root)(ctx);
  const { vmid, node, ip } = await guestAddress(api, vm);
  const conn = { ...host.connection, address: ip };
  await pinGuestKey(api, node, vmid, ip, [{ ...host, connection: conn }]);
  return conn;
};

/** Read the guest's ed25519 host key through the agent (the pinned API, not the network) and pin it for these hosts. */
export async function pinGuestKey(
  api: PveApi,
  node: string,
  vmid: number,
  ip: string,
  guests: HostInfo[],
): Promise<void> {
  const r = await api.get("/nodes/{node}/qemu/{vmid}/agent/file-read", {
    node,
    vmid,
    file: "/etc/ssh/ssh_host_ed25519_key.pub",
  });
  const [type, b64] = r.content.trim().split(/\s+/);
  if (type !== "ssh-ed25519" || !b64)
    throw new LabError(`VM ${vmid}: the guest's host key file is not an ed25519 public key`, ExitCode.failed);
  const blob = Buffer.from(b64, "base64");
  for (const g of guests) {
    const c = g.connection;
    const known = findKeys(await readKnownHosts(c.knownHosts), ip, c.port);
    if (known.some((k) => k.blob.equals(blob))) continue;
    if (known.length) {
      throw new LabError(
        `host ${g.name} (VM ${vmid}, ${ip}:${c.port}): ${c.knownHosts} pins another key for this address`,
        ExitCode.failed,
        { host: g.name },
        `if the VM was recreated, remove the old line for ${ip} from ${c.knownHosts}`,
      );
    }
    await appendKnownHost(c.knownHosts, ip, c.port, blob);
  }
}

/** A VM's IPv4 address as its guest agent reports it, for roles that publish it (the dns role's records). */
export async function vmIpv4(
  ctx: ServiceCtx,
  tools: { lab: LabModel; root: string; secret(name: string): Secret },
  vm: string,
): Promise<string> {
  const { name, ep } = endpointOfVm(tools.lab, vm);
  const api = await pveService(name, ep, tools.secret(ep.token_secret), tools.root)(ctx);
  return (await guestAddress(api, vm)).ip;
}
