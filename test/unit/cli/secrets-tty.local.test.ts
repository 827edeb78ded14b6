// `lab secrets set NAME` on a real terminal (a pty made by util-linux `script`): the
// value is typed with echo off, so it appears nowhere in what the terminal shows.
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { makeProject } from "../helpers/project.ts";
import { onPty as ptyRun } from "../helpers/pty.ts";

const BIN = resolve(import.meta.dirname, "../../../bin/lab.mjs");
const VALUE = "s3cret-typed-value";

const onPty = (root: string, args: string[], keys: string) =>
  ptyRun({
    root,
    args,
    prompt: "(not shown): ",
    keys,
    env: { ...process.env, LAB_AGE_KEY_FILE: join(root, "age.key"), LAB_SECRETS_FILE: "" },
  });

describe("lab secrets set on a terminal", { timeout: 60_000 }, () => {
  it("prompts, reads without echo (backspace works), stores exactly what was typed", async () => {
    const root = await makeProject({});
    const env: NodeJS.ProcessEnv = { ...process.env, LAB_AGE_KEY_FILE: join(root, "age.key") };
    delete env.LAB_SECRETS_FILE;
    await promisify(execFile)("node", [BIN, "-C", root, "secrets", "init"], { env });
    const r = await onPty(root, ["secrets", "set", "token"], `${VALUE}xy\u007f\u007f\r`);
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).toContain("value for token (not shown): ");
    expect(r.screen).toContain("added token");
    expect(r.screen).not.toContain("s3cret");
    const got = await promisify(execFile)("node", [BIN, "-C", root, "secrets", "get", "token"], { env });
    expect(got.stdout).toBe(`${VALUE}\n`);
    // From a pipe (not a terminal): stdin as before, no prompt.
    const piped = await new Promise<string>((done) => {
      const c = execFile("node", [BIN, "-C", root, "secrets", "set", "piped"], { env }, (_e, _o, stderr) =>
        done(stderr),
      );
      c.stdin?.end("from-pipe\n");
    });
    expect(piped).not.toContain("not shown");
    expect((await promisify(execFile)("node", [BIN, "-C", root, "secrets", "get", "piped"], { env })).stdout).toBe(
      "from-pipe\n",
    );
  });

  it("Ctrl-C at the prompt changes nothing (exit 130)", async () => {
    const root = await makeProject({});
    const env: NodeJS.ProcessEnv = { ...process.env, LAB_AGE_KEY_FILE: join(root, "age.key") };
    delete env.LAB_SECRETS_FILE;
    await promisify(execFile)("node", [BIN, "-C", root, "secrets", "init"], { env });
    const r = await onPty(root, ["secrets", "set", "token"], "abc\u0003");
    expect(r.code).toBe(130);
    expect((await promisify(execFile)("node", [BIN, "-C", root, "secrets", "list"], { env })).stdout).toBe("");
  });
});
