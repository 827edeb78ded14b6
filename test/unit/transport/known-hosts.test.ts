// known_hosts matching checked against OpenSSH itself: for every case of a table,
// the lines `ssh-keygen -F` finds (it uses OpenSSH's own hostfile.c) are the lines
// findKeys finds, with the same @revoked flags; hashed files are made by
// `ssh-keygen -H`. Real `ssh` against a real host: test/integration/known-hosts.test.ts.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkHostKey,
  findKeys,
  hostKeys,
  hostMatches,
  hostToken,
  pinned,
} from "../../../src/transport/known-hosts.ts";

let dir = "";
let k1 = "";
let k2 = "";
const blob = (line: string) => Buffer.from(line.split(" ")[1]!, "base64");

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lab-kh-"));
  const key = (name: string) => {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", join(dir, name)]);
    return readFileSync(join(dir, `${name}.pub`), "utf8")
      .split(" ")
      .slice(0, 2)
      .join(" ");
  };
  k1 = key("k1");
  k2 = key("k2");
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Lines (1-based) ssh-keygen -F finds for the host, without @cert-authority ones, each with its REVOKED flag. */
function openssh(file: string, address: string, port: number): { line: number; revoked: boolean }[] {
  let out = "";
  try {
    // ssh lowercases the host name before it looks it up (ssh.c); ssh-keygen -F takes it as given.
    out = execFileSync("ssh-keygen", ["-F", hostToken(address.toLowerCase(), port), "-f", file], { encoding: "utf8" });
  } catch (e) {
    if ((e as { status?: number }).status !== 1) throw e; // 1: not found
  }
  return [...out.matchAll(/^# Host \S+ found: line (\d+) ?(\S*)$/gm)]
    .filter((m) => m[2] !== "CA")
    .map((m) => ({ line: Number(m[1]), revoked: m[2] === "REVOKED" }));
}

const ours = (file: string, address: string, port: number) =>
  findKeys(readFileSync(file, "utf8"), address, port).map((k) => ({ line: k.line, revoked: k.revoked }));

// [file lines ("K1"/"K2" stand for the keys), lookups, and whether ssh-keygen -H can hash the file]
type Case = [string, string[], [string, number][], boolean?];
const table: Case[] = [
  [
    "plain, port 22 is the bare address",
    ["10.0.0.8 K1", "[10.0.0.8]:22 K2"],
    [
      ["10.0.0.8", 22],
      ["10.0.0.9", 22],
    ],
  ],
  [
    "other ports are [addr]:port only",
    ["[10.0.0.7]:2222 K1", "10.0.0.7 K2"],
    [
      ["10.0.0.7", 2222],
      ["10.0.0.7", 22],
      ["10.0.0.7", 2223],
    ],
  ],
  [
    "comma lists",
    ["a.lab,10.0.0.1,[10.0.0.1]:2222 K1"],
    [
      ["10.0.0.1", 22],
      ["10.0.0.1", 2222],
      ["a.lab", 22],
      ["b.lab", 22],
    ],
  ],
  [
    "negation vetoes the whole line",
    ["*,!10.0.0.5 K1", "10.0.0.*,!10.0.0.6 K2"],
    [
      ["10.0.0.5", 22],
      ["10.0.0.6", 22],
      ["10.0.0.7", 22],
      ["10.0.0.5", 2222],
    ],
  ],
  [
    "a negation alone matches nothing",
    ["!10.0.0.5 K1"],
    [
      ["10.0.0.5", 22],
      ["10.0.0.6", 22],
    ],
  ],
  [
    "wildcards * and ?",
    ["10.0.0.? K1", "[10.0.1.*]:2222 K2", "*.lab K1"],
    [
      ["10.0.0.3", 22],
      ["10.0.0.33", 22],
      ["10.0.1.40", 2222],
      ["10.0.1.40", 22],
      ["web.lab", 22],
      ["lab", 22],
    ],
  ],
  [
    "glob metacharacters of regexps are literal",
    ["10.0.0.1+ K1", "a[b]c K2", "x.y K1"],
    [
      ["10.0.0.11", 22],
      ["abc", 22],
      ["xzy", 22],
      ["x.y", 22],
    ],
  ],
  [
    "the other regexp metacharacters are literal too",
    ["a(b)c K1", "a|b K2", "a{2} K1", "a^b$c K2", "a\\d K1"],
    [
      ["a(b)c", 22],
      ["abc", 22],
      ["a", 22],
      ["b", 22],
      ["a|b", 22],
      ["aa", 22],
      ["a{2}", 22],
      ["a^b$c", 22],
      ["a\\d", 22],
      ["a1", 22],
    ],
  ],
  [
    "case-insensitive",
    ["WEB1.LAB K1"],
    [
      ["web1.lab", 22],
      ["Web1.Lab", 22],
    ],
  ],
  [
    "markers: @revoked counts, @cert-authority does not",
    ["@revoked 10.0.0.6 K1", "@cert-authority 10.0.0.6 K2", "10.0.0.6 K1", "@revoked * K2"],
    [
      ["10.0.0.6", 22],
      ["10.0.0.7", 22],
    ],
  ],
  ["a line with an unknown marker is skipped", ["@foo 10.0.0.6 K2", "10.0.0.6 K1"], [["10.0.0.6", 22]], false],
  [
    "comments, blank lines, trailing comments",
    ["# 10.0.0.2 K1", "", "   # indented comment", "10.0.0.2 K2 root@old-host", "  10.0.0.2 K1"],
    [["10.0.0.2", 22]],
  ],
  [
    "a commented-out line pins nothing, even one with a wildcard in its list",
    ["#old.lab,* K1", "#* K2", "10.0.0.2 K2"],
    [
      ["10.0.0.2", 22],
      ["10.0.0.3", 22],
    ],
    false,
  ],
];

describe("findKeys agrees with ssh-keygen -F", () => {
  it.each(table)("%s", (_name, lines, lookups, hashable = true) => {
    const file = join(dir, "known_hosts");
    writeFileSync(file, lines.map((l) => l.replace("K1", k1).replace("K2", k2)).join("\n") + "\n");
    for (const [a, p] of lookups) expect(ours(file, a, p), `${a}:${p}`).toEqual(openssh(file, a, p));
    // Hashed by OpenSSH (wildcard and negated lines stay plain): the same lines match there too.
    if (!hashable) return;
    execFileSync("ssh-keygen", ["-q", "-H", "-f", file], { stdio: "ignore" });
    for (const [a, p] of lookups) expect(ours(file, a, p), `hashed ${a}:${p}`).toEqual(openssh(file, a, p));
  });

  it("matches the hashed entries ssh-keygen -H writes (HMAC-SHA1 of the host token)", () => {
    const file = join(dir, "hashed");
    writeFileSync(file, `10.0.0.8 ${k1}\n[10.0.0.7]:2222 ${k2}\n`);
    execFileSync("ssh-keygen", ["-q", "-H", "-f", file], { stdio: "ignore" });
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain("10.0.0"); // really hashed
    expect(findKeys(text, "10.0.0.8", 22).map((k) => k.blob)).toEqual([blob(k1)]);
    expect(findKeys(text, "10.0.0.7", 2222).map((k) => k.blob)).toEqual([blob(k2)]);
    expect(findKeys(text, "10.0.0.8", 2222)).toEqual([]);
    expect(findKeys(text, "10.0.0.7", 22)).toEqual([]);
    // A corrupted salt or hash matches nothing.
    const [field] = text.split(" ");
    expect(hostMatches(field!, "10.0.0.8")).toBe(true);
    expect(hostMatches(field!.replace("|1|", "|2|"), "10.0.0.8")).toBe(false);
    expect(hostMatches(`${field!.slice(0, -4)}AAA=`, "10.0.0.8")).toBe(false);
  });
});

describe("host-key verdicts", () => {
  it("looks port 22 up as the bare address and other ports as [addr]:port", () => {
    expect(hostToken("10.0.0.8", 22)).toBe("10.0.0.8");
    expect(hostToken("10.0.0.8", 2222)).toBe("[10.0.0.8]:2222");
    expect(findKeys(`10.0.0.8 ${k1}\n`, "10.0.0.8", 22)).toHaveLength(1);
    expect(findKeys(`[10.0.0.8]:22 ${k1}\n`, "10.0.0.8", 22)).toHaveLength(0);
  });

  it("falls back to the bare address on another port only when [addr]:port pins nothing (like ssh)", () => {
    const lines = (l: string[]) => l.map((x) => x.replace("K1", k1).replace("K2", k2)).join("\n");
    expect(checkHostKey(hostKeys(lines(["10.0.0.8 K1"]), "10.0.0.8", 2222), blob(k1))).toBe("ok");
    expect(checkHostKey(hostKeys(lines(["10.0.0.8 K1", "[10.0.0.8]:2222 K2"]), "10.0.0.8", 2222), blob(k1))).toBe(
      "changed",
    );
    expect(
      checkHostKey(hostKeys(lines(["10.0.0.8 K1", "@revoked [10.0.0.8]:2222 K1"]), "10.0.0.8", 2222), blob(k1)),
    ).toBe("revoked");
    // Port 22 has no second name to fall back to.
    expect(hostKeys(lines(["[10.0.0.8]:2222 K1"]), "10.0.0.8", 22)).toEqual([]);
    // ...and its entries are listed once (the pins an error message names).
    expect(
      hostKeys(lines(["10.0.0.8 K1", "@revoked 10.0.0.8 K2"]), "10.0.0.8", 22).map((k) => [k.line, k.revoked]),
    ).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(hostKeys(lines(["@revoked 10.0.0.8 K2"]), "10.0.0.8", 22).map((k) => [k.line, k.revoked])).toEqual([
      [1, true],
    ]);
  });

  it("refuses a @revoked key even when another line pins it", () => {
    const keys = findKeys(`10.0.0.6 ${k1}\n@revoked * ${k1}\n10.0.0.6 ${k2}\n`, "10.0.0.6", 22);
    expect(checkHostKey(keys, blob(k1))).toBe("revoked");
    expect(checkHostKey(keys, blob(k2))).toBe("ok");
    expect(pinned(keys).map((k) => k.line)).toEqual([1, 3]);
  });

  it("calls a key that matches no pin changed, and a pinned one ok", () => {
    const keys = findKeys(`10.0.0.6 ${k1}\n`, "10.0.0.6", 22);
    expect(checkHostKey(keys, blob(k1))).toBe("ok");
    expect(checkHostKey(keys, blob(k2))).toBe("changed");
    expect(checkHostKey([], blob(k1))).toBe("changed");
  });

  it("does not take a @cert-authority key as a host key", () => {
    const keys = findKeys(`@cert-authority 10.0.0.6 ${k1}\n`, "10.0.0.6", 22);
    expect(keys).toEqual([]);
    expect(checkHostKey(keys, blob(k1))).toBe("changed");
  });
});
