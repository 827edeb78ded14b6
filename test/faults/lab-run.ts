// One `lab apply` as a real child process, watched while it runs: its output, which
// hosts have shown progress (so a fault can wait until lab has logged in to one).
import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { constants } from "node:os";
import { LAB_BIN } from "../integration/project.ts";

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface LabProcess {
  child: ChildProcess;
  done: Promise<Finished>;
  running: () => boolean;
  /** Resolves true when a stderr line matches, false if lab ended or `ms` passed first. */
  waitFor: (re: RegExp, ms?: number) => Promise<boolean>;
  /** Sleep up to `ms`; false if lab ended first. */
  sleep: (ms: number) => Promise<boolean>;
  /**
   * Resolves true once lab's signal handlers are installed, false if lab ended first. A signal sent
   * earlier reaches a process whose JavaScript has not started yet, which no program can handle; the
   * suite's signal faults start from this moment.
   */
  handlesSignals: () => Promise<boolean>;
}

export function startLab(root: string, args: string[], env: Record<string, string>): LabProcess {
  const t0 = Date.now();
  const child = spawn("node", [LAB_BIN, "-C", root, ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let stdout = "";
  let stderr = "";
  let ended = false;
  const listeners = new Set<() => void>();
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
    for (const l of listeners) l();
  });
  const done = new Promise<Finished>((resolve) =>
    child.on("close", (code, signal) => {
      ended = true;
      for (const l of listeners) l();
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    }),
  );
  const waitFor = (re: RegExp, ms = 120_000) =>
    new Promise<boolean>((resolve) => {
      const check = () => {
        if (re.test(stderr)) finish(true);
        else if (ended) finish(false);
      };
      const timer = setTimeout(() => finish(false), ms);
      const finish = (v: boolean) => {
        clearTimeout(timer);
        listeners.delete(check);
        resolve(v);
      };
      listeners.add(check);
      check();
    });
  const sleep = (ms: number) =>
    new Promise<boolean>((resolve) => {
      if (ended) return resolve(false);
      const timer = setTimeout(() => (listeners.delete(check), resolve(!ended)), ms);
      const check = () => {
        if (ended) {
          clearTimeout(timer);
          listeners.delete(check);
          resolve(false);
        }
      };
      listeners.add(check);
    });
  // SIGHUP in SigCgt (/proc): Node itself catches SIGINT and SIGTERM from its first instant (to
  // restore the terminal, then die), but not SIGHUP; bin/lab.mjs hooks all three at once.
  const handlesSignals = async () => {
    const bit = 1n << BigInt(constants.signals.SIGHUP - 1);
    for (let i = 0; i < 3000 && !ended; i++) {
      const status = await readFile(`/proc/${child.pid}/status`, "utf8").catch(() => "");
      const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status)?.[1];
      if (mask && (BigInt(`0x${mask}`) & bit) !== 0n) return true;
      if (!(await sleep(10))) return false;
    }
    return false;
  };
  return { child, done, running: () => !ended, waitFor, sleep, handlesSignals };
}
