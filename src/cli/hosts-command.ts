// `lab hosts trust HOST|GROUP|PATTERN...`: pin host keys deliberately (never trust on
// first use silently). Shows each fingerprint; with --fingerprint (one host only),
// refuses any other key.
import { badInput, ExitCode, LabError } from "../errors.ts";
import type { Inventory } from "../inventory/inventory.ts";
import { matchHosts } from "../inventory/patterns.ts";
import { redact } from "../secrets/secret.ts";
import { appendKnownHost, findKeys, fingerprint, readKnownHosts } from "../transport/known-hosts.ts";
import { connectSsh } from "../transport/ssh.ts";

/** Every host of the patterns, one after the other; a host that fails is reported and the rest go on (exit: the worst code). */
export async function hostsTrust(
  inv: Inventory,
  patterns: string[],
  expected: string | undefined,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream = process.stderr,
): Promise<ExitCode> {
  const names = [...new Set(patterns.flatMap((p) => matchHosts(inv, p, "lab hosts trust")))];
  if (names.length === 0)
    throw badInput(
      `lab hosts trust ${patterns.join(" ")}: no host matched`,
      {},
      "name hosts or groups of the inventory",
    );
  if (expected && names.length > 1)
    throw badInput(
      `--fingerprint pins one host, but ${names.join(", ")} matched`,
      {},
      "name a single host with --fingerprint",
    );
  if (names.length === 1) return trustOne(inv, names[0]!, expected, out);
  let worst: ExitCode = ExitCode.ok;
  for (const name of names) {
    const code = await trustOne(inv, name, expected, out).catch((e: unknown) => {
      if (!(e instanceof LabError)) throw e;
      err.write(`lab: error: ${redact(e.format())}\n`);
      return e.code;
    });
    if (code > worst) worst = code;
  }
  return worst;
}

async function trustOne(
  inv: Inventory,
  name: string,
  expected: string | undefined,
  out: NodeJS.WritableStream,
): Promise<ExitCode> {
  const host = inv.hosts.get(name)!;
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
    throw new LabError(
      `${name} (${c.address}:${c.port}) offered ${fp}, not the expected ${expected}`,
      ExitCode.failed,
      { host: name },
      "do not trust this key; find out why it differs",
    );
  }
  const pinned = findKeys(await readKnownHosts(c.knownHosts), c.address, c.port);
  if (pinned.some((k) => k.blob.equals(key!))) {
    out.write(`${name}: ${fp} is already pinned in ${c.knownHosts}\n`);
    return ExitCode.ok;
  }
  if (pinned.length) {
    throw new LabError(
      `${name} already has a different pinned key (${pinned.map((k) => fingerprint(k.blob)).join(", ")})`,
      ExitCode.failed,
      { host: name },
      `if the host was reinstalled, remove its line from ${c.knownHosts} first`,
    );
  }
  await appendKnownHost(c.knownHosts, c.address, c.port, key);
  out.write(
    `${name}: pinned ${fp} in ${c.knownHosts}${expected ? " (matches --fingerprint)" : " — compare it with the host's console output"}\n`,
  );
  return ExitCode.ok;
}
