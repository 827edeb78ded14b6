// known_hosts parsing and matching (plain and hashed `|1|salt|hash` entries),
// so host keys are checked strictly, the way OpenSSH does.
import { createHash, createHmac } from "node:crypto";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";

export interface KnownKey {
  type: string;
  /** The key blob (SSH wire format), as base64 in the file. */
  blob: Buffer;
  revoked: boolean;
}

/** "addr" for port 22, "[addr]:port" otherwise (OpenSSH's rule). */
export const hostToken = (address: string, port: number): string => (port === 22 ? address : `[${address}]:${port}`);

export async function readKnownHosts(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw e;
  }
}

export function findKeys(text: string, address: string, port: number): KnownKey[] {
  const token = hostToken(address, port);
  const out: KnownKey[] = [];
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim();
    if (!line || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    let marker = "";
    if (fields[0]?.startsWith("@")) marker = fields.shift() ?? "";
    const [patterns, type, b64] = fields;
    if (!patterns || !type || !b64 || marker === "@cert-authority") continue;
    if (!patterns.split(",").some((p) => matches(p, token))) continue;
    out.push({ type, blob: Buffer.from(b64, "base64"), revoked: marker === "@revoked" });
  }
  return out;
}

function matches(pattern: string, token: string): boolean {
  if (pattern.startsWith("|1|")) {
    const [, , salt, hash] = pattern.split("|");
    if (!salt || !hash) return false;
    return createHmac("sha1", Buffer.from(salt, "base64")).update(token).digest("base64") === hash;
  }
  if (pattern.startsWith("!")) return false;
  if (!pattern.includes("*") && !pattern.includes("?")) return pattern === token;
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*").replaceAll("?", ".")}$`);
  return re.test(token);
}

/** OpenSSH-style fingerprint: "SHA256:<base64 without padding>". */
export const fingerprint = (blob: Buffer): string =>
  `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;

/** The key type named inside a key blob (first SSH string). */
export function blobType(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString("latin1");
}

/** Host-key algorithms ssh2 may negotiate for a pinned key type. */
export function algorithmsFor(type: string): string[] {
  if (type === "ssh-rsa") return ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];
  return [type];
}

export async function appendKnownHost(file: string, address: string, port: number, blob: Buffer): Promise<string> {
  const line = `${hostToken(address, port)} ${blobType(blob)} ${blob.toString("base64")}\n`;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await appendFile(file, line, { mode: 0o600 });
  return line;
}
