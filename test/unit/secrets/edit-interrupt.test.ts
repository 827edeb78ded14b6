// `lab secrets edit` interrupted, as a real process: the decrypted copy is never
// left behind and the editor (and what it started) never keeps running, after
// one signal or two, and the secrets file is unchanged.
import { spawn } from "node:child_process";
import { access, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { secretsInit, secretsSet } from "../../../src/cli/secrets-command.ts";
import { projectOpts, tempDir } from "./helpers.ts";

const LAB = join(import.meta.dirname, "../../../bin/lab.mjs");
const sink = { write: () => undefined };

/** Dead, or a zombie nobody reaped yet. */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return stat !== "" && stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
}

async function until(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * An editor that ignores SIGTERM when `stubborn` (so only the second signal's SIGKILL ends it) and
 * starts a child of its own; it logs the temp file, its pid and the child's pid.
 */
async function start(signals: NodeJS.Signals[], stubborn: boolean) {
  const root = await tempDir();
  const opts = { ...projectOpts(root), stdout: sink, stderr: sink };
  await secretsInit(opts);
  await secretsSet("db_password", "hunter2-very-secret", opts);
  const before = await readFile(join(root, "secrets.age"), "utf8");
  const log = join(root, "editor.log");
  await writeFile(
    join(root, "editor.sh"),
    `${stubborn ? "trap '' TERM\n" : ""}sleep 300 &\necho "$1 $$ $!" > ${log}.tmp && mv ${log}.tmp ${log}\nwait\nwait\n`,
  );
  const child = spawn(process.execPath, [LAB, "-C", root, "secrets", "edit"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...opts.env, EDITOR: `sh ${join(root, "editor.sh")}`, VISUAL: "" },
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  await until(() =>
    access(log).then(
      () => true,
      () => false,
    ),
  );
  const [file, editorPid, grandchild] = (await readFile(log, "utf8")).trim().split(" ");
  for (const s of signals) {
    child.kill(s);
    await new Promise((r) => setTimeout(r, 200));
  }
  const code = await exit;
  return { root, before, code, stderr, file: file!, pids: [Number(editorPid), Number(grandchild)] };
}

describe("lab secrets edit, interrupted", () => {
  for (const [name, signals, stubborn] of [
    ["SIGINT once", ["SIGINT"], false],
    ["SIGHUP once", ["SIGHUP"], false],
    ["SIGTERM once", ["SIGTERM"], false],
    ["SIGINT twice (the editor ignores SIGTERM)", ["SIGINT", "SIGINT"], true],
    ["SIGTERM then SIGHUP (the editor ignores SIGTERM)", ["SIGTERM", "SIGHUP"], true],
  ] as const) {
    it(`${name}: exit 130, no plaintext left, the editor and its child stopped, secrets unchanged`, async () => {
      const r = await start([...signals], stubborn);
      expect(r.code, r.stderr).toBe(130);
      expect(r.file.startsWith("/dev/shm/") || r.file.includes("lab-secrets-")).toBe(true);
      await expect(access(r.file)).rejects.toThrow();
      await expect(access(join(r.file, ".."))).rejects.toThrow();
      await until(async () => !(await alive(r.pids[0]!)) && !(await alive(r.pids[1]!)), 5000);
      expect(await readFile(join(r.root, "secrets.age"), "utf8")).toBe(r.before);
      expect(r.stderr).not.toContain("hunter2");
    });
  }
});
