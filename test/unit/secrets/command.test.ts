import { access, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  secretsEdit,
  secretsGet,
  secretsInit,
  secretsList,
  secretsRekey,
  secretsRemove,
  secretsSet,
} from "../../../src/cli/secrets-command.ts";
import { LabError } from "../../../src/errors.ts";
import { loadSecrets } from "../../../src/secrets/store.ts";
import { projectOpts, tempDir } from "./helpers.ts";

function capture() {
  let text = "";
  return {
    write: (s: string) => void (text += s),
    get text() {
      return text;
    },
  };
}

async function setup() {
  const root = await tempDir();
  const out = capture();
  const err = capture();
  const opts = { ...projectOpts(root), stdout: out, stderr: err };
  expect(await secretsInit(opts)).toBe(0);
  return { root, opts, out, err };
}

/** A fake $EDITOR: records the temp file's path and modes, then runs `action` on it. */
async function fakeEditor(root: string, action: string): Promise<{ editor: string; log: string }> {
  const script = join(root, "editor.sh");
  const log = join(root, "editor.log");
  await writeFile(script, `f="$1"\necho "$f $(stat -c %a "$f") $(stat -c %a "$(dirname "$f")")" > ${log}\n${action}\n`);
  return { editor: `sh ${script}`, log };
}

const gone = (path: string) =>
  access(path).then(
    () => false,
    () => true,
  );

describe("lab secrets commands", () => {
  it("set (stdin) / get / list / rm", async () => {
    const { opts, out, err } = await setup();
    expect(await secretsSet("api_token", Readable.from(["tok-123456\n"]), opts)).toBe(0);
    expect(err.text).toContain("added api_token");
    expect(err.text).not.toContain("tok-123456");
    await secretsSet("other", "other-value", opts);
    await secretsList(opts);
    expect(out.text).toBe("api_token\nother\n");
    await secretsGet("api_token", opts);
    expect(out.text.endsWith("tok-123456\n")).toBe(true);
    await secretsRemove("other", opts);
    await expect(secretsRemove("other", opts)).rejects.toThrow(/unknown secret "other".*known: api_token/);
  });

  it("edit: 0600 file in a 0700 dir, re-encrypted, then removed", async () => {
    const { root, opts } = await setup();
    await secretsSet("keep_me", "keep-value", opts);
    const { editor, log } = await fakeEditor(root, `echo "added_key: added-value" >> "$f"`);
    expect(await secretsEdit({ ...opts, editor })).toBe(0);
    const [path, fileMode, dirMode] = (await readFile(log, "utf8")).trim().split(" ");
    expect([fileMode, dirMode]).toEqual(["600", "700"]);
    expect(await gone(path!)).toBe(true);
    expect(await gone(join(path!, ".."))).toBe(true);
    const s = await loadSecrets(opts);
    expect(s.get("added_key").reveal()).toBe("added-value");
    expect(s.get("keep_me").reveal()).toBe("keep-value");
  });

  it("edit: a failing editor or an invalid edit changes nothing and still removes the plaintext", async () => {
    const { root, opts } = await setup();
    await secretsSet("keep_me", "keep-value", opts);
    const before = await readFile(join(root, "secrets.age"), "utf8");
    const failing = await fakeEditor(root, `echo "x: changed-value" >> "$f"; exit 3`);
    await expect(secretsEdit({ ...opts, editor: failing.editor })).rejects.toThrow(/exited with 3/);
    expect(await gone((await readFile(failing.log, "utf8")).split(" ")[0]!)).toBe(true);

    const short = await fakeEditor(root, `echo "pin: 123" >> "$f"`);
    const e: unknown = await secretsEdit({ ...opts, editor: short.editor }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LabError);
    expect((e as LabError).message).toMatch(/pin .*shorter than 4/);
    expect(await gone((await readFile(short.log, "utf8")).split(" ")[0]!)).toBe(true);
    expect(await readFile(join(root, "secrets.age"), "utf8")).toBe(before);
  });

  it("rekey re-encrypts (new ciphertext, same values)", async () => {
    const { root, opts } = await setup();
    await secretsSet("k_one", "value-one", opts);
    const before = await readFile(join(root, "secrets.age"), "utf8");
    expect(await secretsRekey(opts)).toBe(0);
    expect(await readFile(join(root, "secrets.age"), "utf8")).not.toBe(before);
    expect((await loadSecrets(opts)).get("k_one").reveal()).toBe("value-one");
  });
});
