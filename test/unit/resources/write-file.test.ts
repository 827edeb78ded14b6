// The staged write's script, run by a real sh on this machine: a file is replaced
// only by a staged copy of exactly the bytes sent (size and sha256 computed here);
// an upload cut short, or bytes that differ, leave the old file and no temp file.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { LabError } from "../../../src/errors.ts";
import { writeFileAtomic, writeScript } from "../../../src/resources/write-file.ts";
import { LocalTransport } from "../../../src/transport/local.ts";
import type { ExecOptions, Transport } from "../../../src/transport/types.ts";
import { hostCtx } from "../helpers/host-ctx.ts";
import { tempDir } from "../helpers/temp.ts";

let dir = "";
let target = "";
const OLD = "old content\n";
const NEW = Buffer.from("new content ".repeat(50_000)); // 600 KB: more than one pipe buffer
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

beforeEach(async () => {
  dir = await tempDir("lab-write-");
  target = join(dir, "target.conf");
  await writeFile(target, OLD);
});

const temps = async () => (await readdir(dir)).filter((f) => f.startsWith(".lab-tmp."));

/** Run the script with stdin open; `feed` writes to it and decides when it ends. */
function runScript(
  script: string,
  feed: (stdin: NodeJS.WritableStream) => Promise<void>,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn("sh", ["-c", script], { stdio: ["pipe", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stderr })),
  );
  void feed(child.stdin);
  return done;
}

async function waitForTemp(): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const [t] = await temps();
    if (t) return join(dir, t);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("no temp file appeared");
}

describe("writeScript", () => {
  it("replaces the file when the staged copy has the expected size and sha256", async () => {
    const r = await runScript(writeScript(target, NEW.length, sha(NEW), { mode: "0640" }), (s) =>
      Promise.resolve(void s.end(NEW)),
    );
    expect(r).toEqual({ code: 0, stderr: "" });
    expect((await readFile(target)).equals(NEW)).toBe(true);
    expect((await stat(target)).mode & 0o777).toBe(0o640);
    expect(await temps()).toEqual([]);
  });

  it("validate: runs on the staged copy (%s is its path, at its final mode); the file is replaced only when it exits 0", async () => {
    const ok = await runScript(
      writeScript(target, NEW.length, sha(NEW), {
        mode: "0640",
        validate: `test "$(stat -c %a %s)" = 640 && grep -q 'new content' %s`,
      }),
      (s) => Promise.resolve(void s.end(NEW)),
    );
    expect(ok).toEqual({ code: 0, stderr: "" });
    expect((await readFile(target)).equals(NEW)).toBe(true);
    await writeFile(target, OLD);
    const bad = Buffer.from("broken\n");
    const refused = await runScript(
      writeScript(target, bad.length, sha(bad), {
        mode: "0644",
        validate: "grep -q 'new content' %s || { echo \"parse error in %s\"; exit 3; }",
      }),
      (s) => Promise.resolve(void s.end(bad)),
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`^parse error in ${dir}/\\.lab-tmp\\.\\w+\\n`));
    expect(refused.stderr).toContain(
      `validate (grep -q 'new content' %s || { echo "parse error in %s"; exit 3; }) refused the new content; ${target} was not replaced`,
    );
    expect(await readFile(target, "utf8")).toBe(OLD);
    expect(await temps()).toEqual([]);
  });

  it("validate: the staged path is passed quoted, even in a directory whose name holds spaces and $(...)", async () => {
    const odd = join(dir, "a b $(touch pwned)");
    await (await import("node:fs/promises")).mkdir(odd);
    const path = join(odd, "f");
    const r = await runScript(writeScript(path, NEW.length, sha(NEW), { mode: "0644", validate: "test -s %s" }), (s) =>
      Promise.resolve(void s.end(NEW)),
    );
    expect(r).toEqual({ code: 0, stderr: "" });
    expect((await readFile(path)).equals(NEW)).toBe(true);
    expect((await readdir(dir)).includes("pwned")).toBe(false);
  });

  it("keeps the old file and removes the temp when the upload ends early (the client died)", async () => {
    const r = await runScript(writeScript(target, NEW.length, sha(NEW), { mode: "0644" }), async (s) => {
      s.write(NEW.subarray(0, 100_000));
      // While the content is arriving, the staged file is private (a secret is never world-readable).
      const t = await waitForTemp();
      expect((await stat(t)).mode & 0o777).toBe(0o600);
      s.end(); // what the remote cat sees when the connection dies: end of input
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `staged file has 100000 of ${NEW.length} bytes (the upload was cut short); ${target} was not replaced`,
    );
    expect(await readFile(target, "utf8")).toBe(OLD);
    expect(await temps()).toEqual([]);
  });

  it("keeps the old file when the bytes differ but the size matches", async () => {
    const other = Buffer.from(NEW);
    other[1000] = 0x21;
    const r = await runScript(writeScript(target, NEW.length, sha(NEW), { mode: "0644" }), (s) =>
      Promise.resolve(void s.end(other)),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `staged file has sha256 ${sha(other)}, expected ${sha(NEW)}; ${target} was not replaced`,
    );
    expect(await readFile(target, "utf8")).toBe(OLD);
    expect(await temps()).toEqual([]);
  });

  it("removes the temp when the script is stopped by SIGTERM mid-upload", async () => {
    const child = spawn("sh", ["-c", writeScript(target, NEW.length, sha(NEW), { mode: "0644" })], {
      stdio: ["pipe", "ignore", "ignore"],
    });
    const closed = new Promise((r) => child.on("close", r));
    child.stdin.write(NEW.subarray(0, 1000));
    await waitForTemp();
    // sh runs its trap once the foreground cat ends: the signal reaches both, as a dying session's would.
    child.kill("SIGTERM");
    child.stdin.end();
    await closed;
    expect(await readFile(target, "utf8")).toBe(OLD);
    expect(await temps()).toEqual([]);
  });
});

describe("writeFileAtomic", () => {
  it("sends the size and sha256 of the content it writes, as data", async () => {
    const ctx = hostCtx({ transport: new LocalTransport("local") });
    await writeFileAtomic(ctx, target, "it's $HOME\n", { mode: "0600" });
    expect(await readFile(target, "utf8")).toBe("it's $HOME\n");
    expect((await stat(target)).mode & 0o777).toBe(0o600);
  });

  it("fails the host and keeps the old file when the transport delivers only part of the content", async () => {
    // A transport whose connection dies halfway through the upload: the remote end sees half the bytes, then end of input.
    const local = new LocalTransport("local");
    const cut: Transport = {
      host: "local",
      exec: (command: string, o: ExecOptions = {}) =>
        local.exec(command, {
          ...o,
          ...(o.stdin !== undefined ? { stdin: Buffer.from(o.stdin).subarray(0, 4096) } : {}),
        }),
      close: () => local.close(),
    };
    const e = await writeFileAtomic(hostCtx({ transport: cut }), target, NEW, { mode: "0644" }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(LabError);
    expect((e as LabError).code).toBe(3);
    expect((e as LabError).message).toContain(`write ${target} failed (exit 1)`);
    expect((e as LabError).message).toContain("the upload was cut short");
    expect(await readFile(target, "utf8")).toBe(OLD);
    expect(await temps()).toEqual([]);
  });
});

describe("file({ validate })", () => {
  it("a validate command without %s is refused when the resource is declared", async () => {
    const { file } = await import("../../../src/resources/file.ts");
    const e = (() => {
      try {
        file({ path: "/etc/sudoers.d/x", content: "x\n", validate: "visudo -c" });
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(LabError);
    expect((e as LabError).code).toBe(2);
    expect((e as LabError).message).toContain("validate");
    expect(() => file({ path: "/etc/sudoers.d/x", content: "x\n", validate: "visudo -cf %s" })).not.toThrow();
  });
});
