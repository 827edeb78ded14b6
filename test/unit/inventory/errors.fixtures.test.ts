// Inventory errors as data: test/fixtures/inventory/errors/<case>/ holds the
// YAML files of one inventory and expect.json: the message, and the
// file:line:col it must point at.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LabError } from "../../../src/errors.ts";
import { loadInventory } from "../../../src/inventory/inventory.ts";
import { FIXTURES, folders } from "../helpers/fixtures.ts";

interface Expect {
  /** Substring of the message; {dir} is the case folder. */
  message: string;
  file: string;
  line: number;
  col: number;
  hint?: string;
}

describe("inventory errors carry file:line:col", () => {
  it.each(folders("inventory/errors"))("%s", async (name) => {
    const dir = join(FIXTURES, "inventory", "errors", name);
    const want = JSON.parse(readFileSync(join(dir, "expect.json"), "utf8")) as Expect;
    const e = await loadInventory({ path: dir, root: dir }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(LabError);
    const err = e as LabError;
    expect(err.code).toBe(2);
    expect(err.message).toContain(want.message.replaceAll("{dir}", dir));
    expect(err.where).toMatchObject({ file: join(dir, want.file), line: want.line, col: want.col });
    expect(err.format()).toContain(`${join(dir, want.file)}:${want.line}:${want.col}: `);
    if (want.hint) expect(err.hint).toContain(want.hint);
  });
});
