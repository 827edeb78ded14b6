// A Raw fragment is its text wherever it is stringified (a log line, a `${}` outside sh``),
// never quoted and never "[object Object]".
import { expect, it } from "vitest";
import { raw, sh } from "../../src/sh.ts";

it("a Raw fragment stringifies to its text, and sh`` splices it unquoted", () => {
  const r = raw("$HOME/*.conf");
  expect(String(r)).toBe("$HOME/*.conf");
  expect(`cmd ${r.toString()}`).toBe("cmd $HOME/*.conf");
  expect(sh`ls ${r} ${"$HOME"}`).toBe("ls $HOME/*.conf '$HOME'");
});
