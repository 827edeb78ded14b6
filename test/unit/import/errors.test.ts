// Bad Ansible inventories as data: test/fixtures/ansible/errors/<case>/ holds the
// inventory and expect.json (the message, and the file:line it must point at).
// Each is a LabError with exit code 2, and Ansible refuses the same input.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { importAnsible } from "../../../src/cli/import-command.ts";
import { LabError } from "../../../src/errors.ts";
import { FIXTURES, folders } from "../helpers/fixtures.ts";
import { tempDir } from "../helpers/temp.ts";

interface Expect {
  source: string;
  message: string;
  file: string;
  line?: number;
  hint?: string;
}
const DIR = join(FIXTURES, "ansible", "errors");

describe("bad Ansible inventories are clear errors with file:line (exit 2)", () => {
  it.each(folders("ansible/errors"))("%s", { timeout: 60_000 }, async (name) => {
    const want = JSON.parse(readFileSync(join(DIR, name, "expect.json"), "utf8")) as Expect;
    const source = join(DIR, name, want.source);
    const out = await tempDir();
    const e = await importAnsible({
      root: out,
      source,
      out: join(out, "inventory"),
      force: false,
      stdout: process.stdout,
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(LabError);
    const err = e as LabError;
    expect(err.code).toBe(2);
    expect(err.message).toContain(want.message);
    expect(err.where.file).toBe(join(DIR, name, want.file));
    expect(err.where.line).toBe(want.line);
    expect(err.format()).toContain(
      want.line ? `${join(DIR, name, want.file)}:${want.line}` : join(DIR, name, want.file),
    );
    if (want.hint) expect(err.hint).toContain(want.hint);
    expect(err.hint).toBeTruthy();

    // Ansible rejects it too (static parsers only, every unparsed source fatal).
    if (name === "dynamic-only") return;
    const r = await promisify(execFile)("ansible-inventory", ["-i", source, "--list"], {
      timeout: 60_000,
      env: {
        ...process.env,
        ANSIBLE_INVENTORY_ENABLED: "yaml,ini",
        ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED: "True",
        ANSIBLE_INVENTORY_UNPARSED_FAILED: "True",
      },
    }).then(
      () => 0,
      (x: { code: number }) => x.code,
    );
    expect(r).not.toBe(0);
  });
});
