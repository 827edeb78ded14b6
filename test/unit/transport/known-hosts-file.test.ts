// The known_hosts helpers around matching, checked against OpenSSH's own tools:
// fingerprints as `ssh-keygen -l` prints them, entries lab appends found by
// `ssh-keygen -F`, malformed lines and hashed entries OpenSSH rejects rejected here too.
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  algorithmsFor,
  appendKnownHost,
  blobType,
  findKeys,
  fingerprint,
  hostMatches,
  hostToken,
  readKnownHosts,
} from "../../../src/transport/known-hosts.ts";

let dir = "";
const keys: Record<string, { line: string; blob: Buffer; pub: string }> = {};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lab-khf-"));
  for (const [name, args] of [
    ["ed", ["-t", "ed25519"]],
    ["rsa", ["-t", "rsa", "-b", "1024"]],
    ["ecdsa", ["-t", "ecdsa", "-b", "256"]],
  ] as const) {
    execFileSync("ssh-keygen", ["-q", ...args, "-N", "", "-C", name, "-f", join(dir, name)]);
    const pub = join(dir, `${name}.pub`);
    const line = readFileSync(pub, "utf8").split(" ").slice(0, 2).join(" ");
    keys[name] = { line, blob: Buffer.from(line.split(" ")[1]!, "base64"), pub };
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 1-based lines `ssh-keygen -F` finds for the host token. */
function sshKeygenF(file: string, token: string): number[] {
  try {
    const out = execFileSync("ssh-keygen", ["-F", token, "-f", file], { encoding: "utf8" });
    return [...out.matchAll(/^# Host \S+ found: line (\d+)/gm)].map((m) => Number(m[1]));
  } catch (e) {
    if ((e as { status?: number }).status === 1) return [];
    throw e;
  }
}

describe("fingerprint, blobType, algorithmsFor", () => {
  it.each(["ed", "rsa", "ecdsa"])(
    "%s: the fingerprint is what ssh-keygen -l prints, the type the key's own",
    (name) => {
      const k = keys[name]!;
      const printed = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", k.pub], { encoding: "utf8" }).split(
        " ",
      )[1];
      expect(fingerprint(k.blob)).toBe(printed);
      expect(blobType(k.blob)).toBe(k.line.split(" ")[0]);
    },
  );

  it("offers every signature algorithm of an RSA pin (ssh-rsa keys sign with SHA-2 today), other types as they are", () => {
    expect(algorithmsFor("ssh-rsa")).toEqual(["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]);
    expect(algorithmsFor("ssh-ed25519")).toEqual(["ssh-ed25519"]);
    expect(algorithmsFor("ecdsa-sha2-nistp256")).toEqual(["ecdsa-sha2-nistp256"]);
  });
});

describe("appendKnownHost", () => {
  it("writes an entry ssh-keygen -F finds under the right name (bare on port 22, [addr]:port otherwise), 0600 in a 0700 directory", async () => {
    const file = join(dir, "new", "sub", "known_hosts");
    const l1 = await appendKnownHost(file, "10.0.0.8", 22, keys.ed!.blob);
    const l2 = await appendKnownHost(file, "10.0.0.8", 2222, keys.rsa!.blob);
    expect(l1).toBe(`10.0.0.8 ${keys.ed!.line}\n`);
    expect(l2).toBe(`[10.0.0.8]:2222 ${keys.rsa!.line}\n`);
    expect(readFileSync(file, "utf8")).toBe(l1 + l2);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "new", "sub")).mode & 0o777).toBe(0o700);
    expect(sshKeygenF(file, "10.0.0.8")).toEqual([1]);
    expect(sshKeygenF(file, "[10.0.0.8]:2222")).toEqual([2]);
    expect(findKeys(await readKnownHosts(file), "10.0.0.8", 2222).map((k) => k.blob)).toEqual([keys.rsa!.blob]);
  });

  it("readKnownHosts: a missing file is empty; any other failure is an error, not an empty file", async () => {
    expect(await readKnownHosts(join(dir, "nope"))).toBe("");
    const d = join(dir, "a-directory");
    mkdirSync(d, { recursive: true });
    await expect(readKnownHosts(d)).rejects.toMatchObject({ code: "EISDIR" });
  });
});

describe("lines OpenSSH skips are skipped", () => {
  it.each([
    ["a host without type and key", "10.0.0.6"],
    ["a host and type without key", "10.0.0.6 ssh-ed25519"],
    ["a marker alone", "@revoked"],
    ["a marker and host only", "@revoked 10.0.0.6 ssh-ed25519"],
  ])("%s", (_name, bad) => {
    const file = join(dir, "short");
    writeFileSync(file, `${bad}\n10.0.0.6 ${keys.ed!.line}\n`);
    expect(sshKeygenF(file, "10.0.0.6")).toEqual([2]);
    expect(findKeys(readFileSync(file, "utf8"), "10.0.0.6", 22).map((k) => [k.line, k.revoked])).toEqual([[2, false]]);
  });

  it("tabs and several blanks separate fields, and the line keeps its number", () => {
    const [type, b64] = keys.ed!.line.split(" ");
    const text = `# first\n\n10.0.0.6\t ${type}  ${b64}   comment\n`;
    expect(findKeys(text, "10.0.0.6", 22)).toEqual([{ type, blob: keys.ed!.blob, revoked: false, line: 3 }]);
  });
});

describe("hashed entries", () => {
  const hashed = (salt: Buffer, token: string) =>
    `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(token).digest("base64")}`;

  it("an entry hashed with OpenSSH's 20-byte salt matches exactly its own token", () => {
    const salt = Buffer.alloc(20, 7);
    expect(hostMatches(hashed(salt, "10.0.0.8"), "10.0.0.8")).toBe(true);
    expect(hostMatches(hashed(salt, "10.0.0.8"), "10.0.0.9")).toBe(false);
    expect(hostMatches(hashed(salt, hostToken("10.0.0.8", 2222)), "[10.0.0.8]:2222")).toBe(true);
  });

  it("malformed hashed fields match nothing, like ssh-keygen -F", () => {
    const token = "10.0.0.8";
    const mac = createHmac("sha1", Buffer.alloc(0)).update(token).digest("base64");
    for (const field of [`|1||${mac}`, "|1|c2FsdA==|", "|1|c2FsdA==", "|1|", "|"]) {
      const file = join(dir, "bad-hash");
      writeFileSync(file, `${field} ${keys.ed!.line}\n`);
      expect(sshKeygenF(file, token), field).toEqual([]);
      expect(hostMatches(field, token), field).toBe(false);
    }
  });
});
