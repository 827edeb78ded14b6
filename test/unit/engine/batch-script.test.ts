// The batch script builder (ADR 0023) run by a real sh: every command and every
// payload reaches the host byte for byte, each command's stdout, stderr and exit
// code come back framed, and the first failure stops the commands after it.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { batchScript, newBoundary, parseBatch, type BatchCommand } from "../../../src/engine/batch-script.ts";
import { sh } from "../../../src/sh.ts";
import { tempDir } from "../helpers/temp.ts";

function runBatch(commands: BatchCommand[]) {
  const boundary = newBoundary();
  const script = batchScript(commands, boundary);
  const r = spawnSync("sh", ["-s"], { input: script, maxBuffer: 16 << 20 });
  return {
    script,
    code: r.status,
    status: parseBatch(r.stdout.toString("latin1"), r.stderr.toString("latin1"), commands.length, boundary),
  };
}

const HOSTILE = [
  `it's "quoted" $(touch /tmp/pwned) \`id\` $HOME \\ back\\slash`,
  "a line\nEOF\n'\n",
  "@@lab-0000000000000000.in",
  "-n",
  "",
];

describe("batchScript", () => {
  it("runs hostile command lines as data-quoted sh -c commands, each with its own output framed", () => {
    const commands = HOSTILE.map((text) => ({ command: sh`printf '%s' ${text}; printf '%s' ${text} >&2` }));
    const { status, code } = runBatch(commands);
    expect(code).toBe(0);
    expect(status.map((s) => s && [s.code, s.stdout, s.stderr])).toEqual(HOSTILE.map((t) => [0, t, t]));
  });

  it("hands each command its payload byte for byte (NUL, no final newline, the boundary, 200 KB), never to the next", () => {
    const payloads = [
      Buffer.from([0, 1, 2, 255, 10, 0]),
      Buffer.from("no final newline"),
      Buffer.from("x\n@@lab-1234.in\nEOF\n"),
      Buffer.alloc(200_000, "ab\n"),
    ];
    const commands: BatchCommand[] = [
      ...payloads.map((p) => ({ command: "od -An -tx1 -v | tr -d ' \\n'", stdin: p })),
      // No payload: EOF at once (/dev/null), not the rest of the script.
      { command: "cat; echo end" },
      { command: "echo after" },
    ];
    const { status } = runBatch(commands);
    expect(status.slice(0, 4).map((s) => s?.stdout)).toEqual(payloads.map((p) => p.toString("hex")));
    expect(status.slice(4).map((s) => s?.stdout)).toEqual(["end\n", "after\n"]);
  });

  it("keeps payloads off the script's command line: the script is plain base64 for them", () => {
    const secret = "s3cr3t-value-that-must-not-show";
    const script = batchScript([{ command: "cat >/dev/null", stdin: secret }], newBoundary());
    expect(script).not.toContain(secret);
    expect(script).toContain(Buffer.from(secret).toString("base64"));
  });

  it("stops at the first failing command: its exit code and stderr come back, the ones after it do not run", async () => {
    const dir = await tempDir();
    const { status } = runBatch([
      { command: sh`touch ${join(dir, "one")}` },
      { command: "echo partial; echo 'it broke' >&2; exit 3" },
      { command: sh`touch ${join(dir, "three")}` },
    ]);
    expect(status[0]).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(status[1]).toEqual({ code: 3, stdout: "partial\n", stderr: "it broke\n" });
    expect(status[2]).toBeUndefined();
    expect(existsSync(join(dir, "one"))).toBe(true);
    expect(existsSync(join(dir, "three"))).toBe(false);
  });

  it("a command that exits the shell it runs in (exit, set -e, traps) stops only itself", () => {
    const { status } = runBatch([
      { command: "set -e; trap 'echo trapped' EXIT; false; echo never" },
      { command: "echo next" },
    ]);
    expect(status.map((s) => s && [s.code, s.stdout])).toEqual([[1, "trapped\n"], undefined]);
    const ok = runBatch([{ command: "trap 'echo cleanup' EXIT; exit 0" }, { command: "echo next" }]);
    expect(ok.status.map((s) => s?.stdout)).toEqual(["cleanup\n", "next\n"]);
  });
});

describe("parseBatch", () => {
  const b = "@@lab-00ff";
  it("reads each command's status by its own index (1 is not 10)", () => {
    const out = Array.from({ length: 11 }, (_, i) => `${b}:${i}\nout${i}\n${b}:${i}:${i}\n`).join("");
    const err = Array.from({ length: 11 }, (_, i) => `${b}:${i}\nerr${i}\n${b}:${i}:end\n`).join("");
    const s = parseBatch(out, err, 11, b);
    expect(s[1]).toEqual({ code: 1, stdout: "out1", stderr: "err1" });
    expect(s[10]).toEqual({ code: 10, stdout: "out10", stderr: "err10" });
  });

  it("a command whose end never came back (the script died in it) has no status; nor do those after it", () => {
    const s = parseBatch(`${b}:0\n\n${b}:0:0\n${b}:1\nhalf`, `${b}:0\n\n${b}:0:end\n${b}:1\n`, 3, b);
    expect(s).toEqual([{ code: 0, stdout: "", stderr: "" }, undefined, undefined]);
  });

  it("output that only looks like a status (another boundary) is not taken for one", () => {
    expect(parseBatch(`@@lab-other:0\n\n@@lab-other:0:0\n`, "", 1, b)).toEqual([undefined]);
  });
});
