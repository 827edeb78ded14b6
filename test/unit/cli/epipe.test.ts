// A reader that closes the pipe early (`lab ... | head -1`, `| grep -q`): lab stops
// writing and exits quietly, never with an unhandled 'error' event and a stack trace.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";

const LAB = join(import.meta.dirname, "../../../bin/lab.mjs");

it("a closed stdout pipe ends lab quietly (exit 0, nothing on stderr)", async () => {
  const child = spawn("node", [LAB, "--help"], { stdio: ["ignore", "pipe", "pipe"] });
  // Closed before lab writes anything: its first write gets EPIPE.
  child.stdout.destroy();
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((done) => child.on("close", (c) => done(c)));
  expect(stderr).not.toMatch(/Unhandled|EPIPE|at /);
  expect(code).toBe(0);
});
