// The Redactor's boundaries, one test per rule (each kills a mutant the other tests let
// through: docs/mutation.md).
import { describe, expect, it } from "vitest";
import { Redactor } from "../../../src/secrets/secret.ts";

describe("Redactor boundaries", () => {
  it("scrubs a value of exactly 4 characters (the shortest it accepts)", () => {
    const r = new Redactor();
    r.add("k3y!");
    expect(r.redact("token=k3y! end")).toBe("token=«redacted» end");
  });

  it("scrubs the JSON-escaped form inside a longer JSON string, not only a whole quoted value", () => {
    const r = new Redactor();
    const v = 'pa"ss\\word';
    r.add(v);
    expect(r.redact(JSON.stringify({ msg: `login failed for ${v} at db1` }))).toBe(
      '{"msg":"login failed for «redacted» at db1"}',
    );
  });

  it("scrubs a multi-line value's lines of 8+ characters, trimmed, and leaves shorter lines alone", () => {
    const r = new Redactor();
    r.add("header\n   Zm9vYmFyYmF6cXV4   \n1234567\n12345678\n");
    // A trimmed long line is found without its indentation.
    expect(r.redact("got Zm9vYmFyYmF6cXV4 in a log")).toBe("got «redacted» in a log");
    // 8 characters: a secret line; 7 or fewer ("1234567", "header"): ordinary words.
    expect(r.redact("a 12345678 b")).toBe("a «redacted» b");
    expect(r.redact("a 1234567 b header")).toBe("a 1234567 b header");
  });
});
