// TLS trust for a Proxmox endpoint: verification is always on. Either a CA
// file (the cluster's pve-root-ca.pem, the simulator's cert) or a pinned
// SHA-256 fingerprint (what the PVE GUI shows).
//
// Node verifies the chain before it calls checkServerIdentity, so a pinned
// fingerprint alone cannot trust a self-signed certificate. We therefore fetch
// the certificate once with `openssl s_client` (no request is sent on that
// connection), compare its fingerprint with the pin, and use exactly that
// certificate as the only CA; checkServerIdentity compares the fingerprint
// again on every connection, so a swapped certificate is refused.
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import { type PeerCertificate, checkServerIdentity } from "node:tls";
import { ExitCode, LabError } from "../errors.ts";

export type TlsTrust =
  | { readonly caFile: string; readonly fingerprint?: string }
  | { readonly fingerprint: string; readonly caFile?: undefined };

/** AA:BB:... uppercase, whatever the input separators. */
export function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/[^0-9a-f]/gi, "").toUpperCase();
  if (hex.length !== 64)
    throw new LabError(`'${fp}' is not a SHA-256 certificate fingerprint (32 hex pairs)`, ExitCode.badInput);
  return hex.match(/../g)!.join(":");
}

export function fingerprintMismatch(endpoint: string, expected: string, actual: string): LabError {
  return new LabError(
    `TLS certificate of ${endpoint} does not match the pinned fingerprint: expected ${expected}, got ${actual}`,
    4,
    { host: endpoint },
    "if the certificate was renewed on purpose, update the fingerprint in the inventory (PVE GUI: node > System > Certificates); otherwise do not connect",
  );
}

/** The certificates the server presents (leaf first), read with the openssl CLI. */
export function fetchPeerChain(host: string, port: number, timeoutMs = 10_000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "openssl",
      ["s_client", "-connect", `${host.includes(":") ? `[${host}]` : host}:${port}`, "-servername", host, "-showcerts"],
      { timeout: timeoutMs, maxBuffer: 1024 * 1024 },
      (err, stdout) => {
        const pems = stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
        if (pems.length) resolve(pems.map((p) => `${p}\n`));
        else
          reject(
            new LabError(
              `cannot read the TLS certificate of ${host}:${port}${err ? `: ${err.message.split("\n")[0]}` : ""}`,
              4,
              { host },
              "is the endpoint up and is openssl installed?",
            ),
          );
      },
    );
    child.stdin?.end();
  });
}

export interface PinnedAgent {
  readonly agent: Agent;
  /** SHA-256 fingerprint of the certificate that was trusted. */
  readonly fingerprint?: string;
}

/** An https.Agent that trusts only what the inventory pins. */
export async function pinnedAgent(endpoint: URL, trust: TlsTrust): Promise<PinnedAgent> {
  const pin = trust.fingerprint ? normalizeFingerprint(trust.fingerprint) : undefined;
  let ca: string[];
  if (trust.caFile) {
    ca = [readFileSync(trust.caFile, "utf8")];
  } else {
    const chain = await fetchPeerChain(endpoint.hostname.replace(/^\[|\]$/g, ""), Number(endpoint.port || 8006));
    const actual = new X509Certificate(chain[0]!).fingerprint256;
    if (actual !== pin) throw fingerprintMismatch(endpoint.origin, pin!, actual);
    ca = chain;
  }
  const agent = new Agent({
    ca,
    rejectUnauthorized: true,
    keepAlive: true,
    maxSockets: 8,
    // Node >= 22.9 only: lets a pinned non-self-signed leaf (PVE's pve-ssl.pem) anchor the chain.
    ...({ allowPartialTrustChain: true } as object),
    checkServerIdentity: (host: string, cert: PeerCertificate) => {
      if (pin)
        return cert.fingerprint256 === pin ? undefined : fingerprintMismatch(endpoint.origin, pin, cert.fingerprint256);
      return checkServerIdentity(host, cert);
    },
  });
  return { agent, ...(pin ? { fingerprint: pin } : {}) };
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ALTNAME/;

/** A TLS verification failure as a clear, permanent error (never retried). */
export function tlsFailure(endpoint: string, err: NodeJS.ErrnoException, trust: TlsTrust): LabError | undefined {
  if (err instanceof LabError) return err;
  if (!err.code || !TLS_CODES.test(err.code)) return undefined;
  const how = trust.caFile ? `the CA file ${trust.caFile}` : `the pinned fingerprint ${trust.fingerprint}`;
  return new LabError(
    `TLS verification of ${endpoint} failed (${err.code}: ${err.message}); the server was checked against ${how}`,
    4,
    { host: endpoint },
    trust.caFile
      ? "use the cluster CA (/etc/pve/pve-root-ca.pem) or pin the certificate fingerprint instead"
      : "pin the cluster CA with caFile (/etc/pve/pve-root-ca.pem) if the node certificate is not self-signed",
    { cause: err },
  );
}
