// known_hosts parsing and matching with OpenSSH's semantics (hostfile.c, match.c):
// the host is looked up as "addr" on port 22 and "[addr]:port" otherwise; a line's
// patterns are a comma list of globs (`*`, `?`) where any matching `!pattern`
// makes the whole line not match; `|1|salt|hash` is one hashed name (HMAC-SHA1);
// `@cert-authority` lines are for certificates (not plain keys); a key on a
// matching `@revoked` line is refused even if another line pins it.
import { createHash, createHmac } from "node:crypto";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";

export interface KnownKey {
  type: string;
  /** The key blob (SSH wire format), as base64 in the file. */
  blob: Buffer;
  revoked: boolean;
  /** 1-based line in the file (for messages and tests against `ssh-keygen -F`). */
  line: number;
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

/** The plain-key and revoked entries whose host patterns match address:port. */
export function findKeys(text: string, address: string, port: number): KnownKey[] {
  // OpenSSH lowercases the host name before matching and hashing.
  const token = hostToken(address, port).toLowerCase();
  const out: KnownKey[] = [];
  text.split("\n").forEach((rawLine, i) => {
    const line = rawLine.trim();
    if (!line || line.startsWith("#")) return;
    const fields = line.split(/\s+/);
    const marker = line.startsWith("@") ? fields.shift() : "";
    // An unknown marker makes OpenSSH skip the line; @cert-authority keys sign certificates, they are not host keys.
    if (marker !== "" && marker !== "@revoked") return;
    // No empty fields (the line is trimmed): a key is there when a third field is.
    if (fields.length < 3) return;
    const [patterns, type, b64] = fields as [string, string, string];
    if (!hostMatches(patterns, token)) return;
    out.push({ type, blob: Buffer.from(b64, "base64"), revoked: marker === "@revoked", line: i + 1 });
  });
  return out;
}

/**
 * The entries ssh checks for address:port: those for "[addr]:port"; on another port
 * than 22, when none of them pins a key, those for the bare address too (ssh's
 * "checking without port identifier"). A disagreeing [addr]:port pin is never
 * bypassed that way; revoked entries of either name count.
 */
export function hostKeys(text: string, address: string, port: number): KnownKey[] {
  const exact = findKeys(text, address, port);
  if (port === 22 || pinned(exact).length) return exact;
  return [...exact, ...findKeys(text, address, 22)];
}

/** OpenSSH's verdict on an offered key, given the entries that matched the host. */
export function checkHostKey(keys: readonly KnownKey[], offered: Buffer): "ok" | "revoked" | "changed" {
  if (keys.some((k) => k.revoked && k.blob.equals(offered))) return "revoked";
  return keys.some((k) => !k.revoked && k.blob.equals(offered)) ? "ok" : "changed";
}

/** The pins (not revoked) among matched entries. */
export function pinned(keys: readonly KnownKey[]): KnownKey[] {
  return keys.filter((k) => !k.revoked);
}

/** A host field: one hashed name, or a pattern list where a negated match vetoes the line. */
export function hostMatches(field: string, token: string): boolean {
  if (field.startsWith("|")) return hashedMatches(field, token);
  let positive = false;
  for (const raw of field.split(",")) {
    const negated = raw.startsWith("!");
    const pattern = (negated ? raw.slice(1) : raw).toLowerCase();
    if (!globMatches(pattern, token)) continue;
    if (negated) return false;
    positive = true;
  }
  return positive;
}

function hashedMatches(field: string, token: string): boolean {
  const [, magic, salt, hash] = field.split("|");
  if (magic !== "1" || !salt || !hash) return false;
  return createHmac("sha1", Buffer.from(salt, "base64")).update(token).digest("base64") === hash;
}

function globMatches(pattern: string, text: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replaceAll("*", ".*")
      .replaceAll("?", ".")}$`,
    "s",
  );
  return re.test(text);
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
