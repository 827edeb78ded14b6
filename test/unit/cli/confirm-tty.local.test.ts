// `lab apply` on a real terminal (a pty made by util-linux `script`): it shows the plan and
// asks; only "yes" applies, "no" changes nothing (exit 12), -y does not ask.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { localProject } from "./helpers-main.ts";
import { onPty as ptyRun } from "../helpers/pty.ts";

const QUESTION = 'apply these 2 change(s)? only "yes" applies: ';

const onPty = (root: string, args: string[], keys: string, beforeKeys?: () => void) =>
  ptyRun({ root, args, prompt: QUESTION, keys, timeoutMs: 30_000, ...(beforeKeys ? { beforeKeys } : {}) });

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
