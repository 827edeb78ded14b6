// Names with an address known now or one a VM's guest agent reports when the host is read
// (roles dns and node-targets): a VM that does not exist yet is listed apart, not an error.
import { NotCreatedYetError } from "lab";

/** A name whose address is known now, or one whose address the VM's guest agent gives. */
export type AddressSource = { name: string; address: string } | { name: string; vm: string };

/** Every source's address; a VM that does not exist yet (a plan before the Proxmox play has run) is listed apart. */
export async function resolveSources(
  sources: readonly AddressSource[],
  lookup: (vm: string) => Promise<string>,
): Promise<{ resolved: { name: string; address: string }[]; notYet: string[] }> {
  const resolved: { name: string; address: string }[] = [];
  const notYet: string[] = [];
  await Promise.all(
    sources.map(async (s) => {
      if ("address" in s) return void resolved.push(s);
      try {
        resolved.push({ name: s.name, address: await lookup(s.vm) });
      } catch (e) {
        if (!(e instanceof NotCreatedYetError)) throw e;
        notYet.push(s.name);
      }
    }),
  );
  return { resolved, notYet };
}
