// `lab` on a real terminal: a pty made by util-linux `script`, keys typed once a prompt shows.
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { quote } from "../../../src/sh.ts";

const BIN = resolve(import.meta.dirname, "../../../bin/lab.mjs");

export interface PtyRun {
  root: string;
  args: string[];
  /** Type `keys` once the screen shows this. */
  prompt: string;
  keys: string;
  env?: NodeJS.ProcessEnv;
  /** Runs just before the keys are typed. */
  beforeKeys?: () => void;
  timeoutMs?: number;
}

/** The exit code and everything the terminal showed. */
export function onPty(o: PtyRun): Promise<{ code: number | null; screen: string }> {
  const cmd = ["node", BIN, "-C", o.root, ...o.args].map(quote).join(" ");
  const child = spawn("script", ["-qfec", cmd, "/dev/null"], {
    env: o.env ?? process.env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let screen = "";
  let typed = false;
  child.stdout.on("data", (d: Buffer) => {
    screen += d.toString();
    if (!typed && screen.includes(o.prompt)) {
      typed = true;
      o.beforeKeys?.();
      child.stdin.write(o.keys);
    }
  });
  const timer = setTimeout(() => child.kill(), o.timeoutMs ?? 20_000);
  return new Promise((done) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, screen });
    }),
  );
}
