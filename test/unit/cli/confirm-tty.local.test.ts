// `lab apply` on a real terminal (a pty made by util-linux `script`): it shows the plan and
// asks; only "yes" applies, "no" changes nothing (exit 12), -y does not ask.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { quote } from "../../../src/sh.ts";
import { localProject } from "./helpers-main.ts";

const BIN = resolve(import.meta.dirname, "../../../bin/lab.mjs");
const QUESTION = 'apply these 2 change(s)? only "yes" applies: ';

/** Run `lab ARGS` on a pty; type `answer` once the question is shown. Returns the exit code and the screen. */
function onPty(
  root: string,
  args: string[],
  answer: string,
  beforeAnswer: () => void = () => {},
): Promise<{ code: number | null; screen: string }> {
  const cmd = ["node", BIN, "-C", root, ...args].map(quote).join(" ");
  const child = spawn("script", ["-qfec", cmd, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"], env: process.env });
  let screen = "";
  let typed = false;
  child.stdout.on("data", (d: Buffer) => {
    screen += d.toString();
    if (!typed && screen.includes(QUESTION)) {
      typed = true;
      beforeAnswer();
      child.stdin.write(answer);
    }
  });
  const timer = setTimeout(() => child.kill(), 30_000);
  return new Promise((done) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, screen });
    }),
  );
}

describe("lab apply on a terminal", { timeout: 90_000 }, () => {
  it("asks after showing the plan: no changes nothing, yes applies, -y does not ask", async () => {
    const root = await localProject();
    const no = await onPty(root, ["apply", "--no-color"], "no\r");
    expect(no.code, no.screen).toBe(12);
    expect(no.screen).toContain(`~ file:${root}/alpha/motd: create ${root}/alpha/motd (3 bytes)`);
    expect(no.screen).toContain("apply cancelled: nothing was changed");
    expect(existsSync(join(root, "alpha/motd"))).toBe(false);

    // The host changes while the question waits: "yes" covers only what was shown, so it is refused.
    const drifted = await onPty(root, ["apply", "--no-color"], "yes\r", () =>
      writeFileSync(join(root, "alpha/motd"), "meanwhile\n"),
    );
    expect(drifted.code, drifted.screen).toBe(11);
    expect(drifted.screen).toContain(
      `alpha: file:${root}/alpha/motd: its current state differs from what the plan read`,
    );
    expect(readFileSync(join(root, "alpha/motd"), "utf8")).toBe("meanwhile\n");
    expect(existsSync(join(root, "beta/pg"))).toBe(false);
    await rm(join(root, "alpha/motd"));

    const yes = await onPty(root, ["apply", "--no-color"], "yes\r");
    expect(yes.code, yes.screen).toBe(0);
    expect(yes.screen).toContain(QUESTION);
    expect(yes.screen).toContain("2 change(s) made.");
    expect(existsSync(join(root, "alpha/motd"))).toBe(true);

    // Nothing left to change: no question; -y never asks.
    const none = await onPty(root, ["apply", "--no-color"], "");
    expect(none.code, none.screen).toBe(0);
    expect(none.screen).toContain("0 change(s) planned");
    expect(none.screen).not.toContain("apply these");
    await rm(join(root, "alpha/motd"));
    const y = await onPty(root, ["apply", "-y", "--no-color"], "");
    expect(y.code, y.screen).toBe(0);
    expect(y.screen).not.toContain("apply these");
    expect(existsSync(join(root, "alpha/motd"))).toBe(true);
  });
});
