/* eslint-disable @typescript-eslint/restrict-template-expressions, @typescript-eslint/restrict-plus-operands -- stringifying a Secret is exactly what is under test */
import { format, inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { redact, Redactor, Secret } from "../../../src/secrets/secret.ts";

const VALUE = "hunter2-but-longer";

describe("Secret never shows its value", () => {
  const s = new Secret("db_password", VALUE);
  it.each([
    ["template string", () => `password=${s}`],
    ["String()", () => String(s)],
    ["concatenation", () => "x" + s],
    ["JSON", () => JSON.stringify({ nested: { s }, list: [s] })],
    ["inspect", () => inspect({ deep: { s } }, { depth: 10 })],
    ["format %s %o %j", () => format("%s %o %j", s, { s }, { s })],
    ["Error message", () => new Error(`failed with ${s}`).message],
  ])("%s", (_what, show) => {
    const text = show();
    expect(text).not.toContain(VALUE);
    expect(text).toContain("«secret:db_password»");
  });
  it("reveal() gives the value, and the global redactor scrubs it", () => {
    expect(s.reveal()).toBe(VALUE);
    expect(redact(`echo ${s.reveal()} | chpasswd`)).toBe("echo «redacted» | chpasswd");
  });
});

describe("Redactor", () => {
  it("ignores values under 4 characters", () => {
    const r = new Redactor();
    r.add("abc");
    expect(r.redact("abc abcd")).toBe("abc abcd");
  });
  it("scrubs the longer of two overlapping values whole", () => {
    const r = new Redactor();
    r.add("tokenA");
    r.add("tokenA-extended");
    expect(r.redact("x tokenA-extended y tokenA")).toBe("x «redacted» y «redacted»");
  });
  it("scrubs JSON-escaped and URL-encoded forms", () => {
    const r = new Redactor();
    const v = 'p@ss "word"\\ /?&';
    r.add(v);
    expect(r.redact(JSON.stringify({ v }))).not.toContain("word");
    expect(r.redact(`postgres://u:${encodeURIComponent(v)}@db/x`)).toBe("postgres://u:«redacted»@db/x");
  });
  it("scrubs each long line of a multi-line value (keys, certificates)", () => {
    const r = new Redactor();
    r.add("-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\nyes\n-----END KEY-----\n");
    const out = r.redact("log: MIIBOgIBAAJBAKj34GkxFhD9 yes");
    expect(out).toBe("log: «redacted» yes");
  });
});

describe("Redactor edge cases", () => {
  it("accepts a value with a lone surrogate", () => {
    const r = new Redactor();
    expect(() => r.add("abc\uD800def")).not.toThrow();
    expect(r.redact("x abc\uD800def")).toBe("x «redacted»");
  });
});
