// For the lock tests: throwaway project roots, real processes (a child holding the
// lock, holder.ts; a pid that certainly belonged to a process that has exited).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect } from "vitest";
import { LabError } from "../../../src/errors.ts";

const HOLDER = new URL("./holder.ts", import.meta.url).pathname;
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** Runs after the current test (children killed, directories removed), last registered first. */
export const onCleanup = (f: () => Promise<unknown>): void => void cleanup.push(f);

export const exited = (p: ChildProcess) =>
  new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.on("exit", () => r())));

/** A real process holding the lock; resolves once it has it. */
export async function child(dir: string, mode: "hold" | "exit" | "graceful"): Promise<ChildProcess> {
  const p = spawn(process.execPath, ["--import", "tsx", HOLDER, dir, mode], { stdio: ["ignore", "pipe", "inherit"] });
  onCleanup(async () => {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill("SIGKILL");
      await exited(p);
    }
  });
  await new Promise<void>((resolve, reject) => {
    p.stdout.on("data", (d: Buffer) => d.toString().includes("locked") && resolve());
    p.on("exit", (code) => (mode === "exit" ? resolve() : reject(new Error(`holder exited early: ${code}`))));
  });
  return p;
}

/** A pid that certainly belonged to a process that has exited. */
export async function deadPid(): Promise<number> {
  const p = spawn(process.execPath, ["-e", ""]);
  await exited(p);
  return p.pid!;
}

export async function root(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "lab-lock-"));
  onCleanup(() => rm(d, { recursive: true, force: true }));
  return d;
}

export async function lockError(p: Promise<unknown>): Promise<LabError> {
  const e: unknown = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(LabError);
  return e as LabError;
}
