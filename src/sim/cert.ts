// The simulator's TLS identity: a self-signed certificate made once with the
// openssl CLI (node cannot create X.509) and kept in the state dir, so its
// fingerprint stays stable across restarts and clients can pin it.
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { LabError } from "../errors.ts";

export interface SimCert {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
  /** SHA-256 fingerprint, colon-separated uppercase hex (as PVE shows it). */
  readonly fingerprint: string;
}

const run = promisify(execFile);

export async function ensureCert(dir: string, host: string): Promise<SimCert> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certFile = join(dir, "sim-cert.pem");
  const keyFile = join(dir, "sim-key.pem");
  const usable = existsSync(certFile) && existsSync(keyFile) && covers(readFileSync(certFile, "utf8"), host);
  if (!usable) {
    const san = [
      "IP:127.0.0.1",
      "DNS:localhost",
      ...(host !== "127.0.0.1" && host !== "localhost" ? [isIP(host) ? `IP:${host}` : `DNS:${host}`] : []),
    ];
    try {
      await run("openssl", [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        keyFile,
        "-out",
        certFile,
        "-days",
        "3650",
        "-subj",
        "/CN=lab-sim/O=lab Proxmox simulator",
        "-addext",
        `subjectAltName=${san.join(",")}`,
      ]);
    } catch (e) {
      const detail = (e as { stderr?: string }).stderr?.trim() ?? String(e);
      throw new LabError(
        `cannot create the simulator's TLS certificate with openssl in ${dir}: ${detail}`,
        undefined,
        {},
        "install openssl (apt-get install -y openssl)",
        { cause: e },
      );
    }
  }
  const cert = readFileSync(certFile, "utf8");
  return {
    certFile,
    keyFile,
    cert,
    key: readFileSync(keyFile, "utf8"),
    fingerprint: new X509Certificate(cert).fingerprint256,
  };
}

function covers(pem: string, host: string): boolean {
  const x = new X509Certificate(pem);
  return (isIP(host) ? x.checkIP(host) : x.checkHost(host)) !== undefined;
}
