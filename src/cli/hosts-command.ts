// `lab hosts trust HOST`: pin a host key deliberately (never trust on first use
// silently). Shows the fingerprint; with --fingerprint, refuses any other key.
import { ExitCode, LabError } from "../errors.ts";
import type { Inventory } from "../inventory/inventory.ts";
import { appendKnownHost, findKeys, fingerprint, readKnownHosts } from "../transport/known-hosts.ts";
import { connectSsh } from "../transport/ssh.ts";

export async function hostsTrust(inv: Inventory, name: string, expected: string | undefined, out: NodeJS.WritableStream): Promise<ExitCode> {
  const host = inv.hosts.get(name);
  if (!host) throw new LabError(`unknown host ${name}`, ExitCode.badInput, {}, `known hosts: ${[...inv.hosts.keys()].join(", ")}`);
  const c = host.connection;
  if (c.type !== "ssh") throw new LabError(`host ${name} is not reached over ssh`, ExitCode.badInput);
  let key: Buffer | undefined;
  const ssh = await connectSsh(name, c, (blob) => (key = blob)).catch((e: unknown) => {
    if (key) return undefined; // got the key; auth may legitimately fail for a fresh host
    throw e;
  });
  ssh?.dispose();
  if (!key) throw new LabError(`${name}: no host key received`, ExitCode.unreachable, { host: name });
  const fp = fingerprint(key);
  if (expected && expected !== fp) {
    throw new LabError(`${name} (${c.address}:${c.port}) offered ${fp}, not the expected ${expected}`, ExitCode.failed, { host: name }, "do not trust this key; find out why it differs");
  }
  const pinned = findKeys(await readKnownHosts(c.knownHosts), c.address, c.port);
  if (pinned.some((k) => k.blob.equals(key!))) {
    out.write(`${name}: ${fp} is already pinned in ${c.knownHosts}\n`);
    return ExitCode.ok;
  }
  if (pinned.length) {
    throw new LabError(`${name} already has a different pinned key (${pinned.map((k) => fingerprint(k.blob)).join(", ")})`, ExitCode.failed, { host: name },
      `if the host was reinstalled, remove its line from ${c.knownHosts} first`);
  }
  await appendKnownHost(c.knownHosts, c.address, c.port, key);
  out.write(`${name}: pinned ${fp} in ${c.knownHosts}${expected ? " (matches --fingerprint)" : " — compare it with the host's console output"}\n`);
  return ExitCode.ok;
}
