// Diffs are coloured on a terminal, plain otherwise, and never with --no-color or NO_COLOR.
import { describe, expect, it } from "vitest";
import { useColor } from "../../../src/cli/color.ts";
import { runCommand } from "../../../src/cli/run-command.ts";
import { colorDiff } from "../../../src/engine/output.ts";
import { LAB, makeProject, writeProjectFiles } from "../helpers/project.ts";

const ESC = "\u001b[";

describe("useColor", () => {
  it.each([
    [true, undefined, {}, true],
    [false, undefined, {}, false],
    [true, false, {}, false],
    [true, undefined, { NO_COLOR: "1" }, false],
    [true, undefined, { NO_COLOR: "" }, true],
  ])("tty=%s flag=%s env=%j -> %s", (tty, flag, env, want) => {
    expect(useColor({ isTTY: tty }, flag, env)).toBe(want);
  });
});

describe("plan output", () => {
  async function planOut(tty: boolean, color?: boolean): Promise<string> {
    const root = await makeProject({
      "playbooks/site.ts": `import { definePlaybook, inline, file } from ${LAB};
export default definePlaybook({ name: "s", plays: [{ name: "p", hosts: "all", roles: (h) => [inline([file({ path: String(h.vars.dir) + "/f", content: "new\\n" })])] }] });
`,
    });
    await writeProjectFiles(root, {
      "inventory/hosts.yaml": `connection: { type: local }\nhosts:\n  a: { vars: { dir: ${root}/a } }\n`,
      "a/f": "old\n",
    });
    let text = "";
    const stdout = Object.assign(
      new (await import("node:stream")).Writable({
        write(c: Buffer, _e, cb) {
          text += c.toString();
          cb();
        },
      }),
      { isTTY: tty },
    );
    const stderr = new (await import("node:stream")).Writable({
      write(_c, _e, cb) {
        cb();
      },
    });
    const saved = process.env.NO_COLOR;
    delete process.env.NO_COLOR;
    try {
      await runCommand({
        root,
        inventory: `${root}/inventory`,
        playbook: `${root}/playbooks/site.ts`,
        check: true,
        forks: 1,
        json: false,
        verbose: false,
        stdout,
        stderr,
        ...(color === false ? { color } : {}),
      });
    } finally {
      if (saved !== undefined) process.env.NO_COLOR = saved;
    }
    return text;
  }

  it("on a terminal the diff is coloured; piped or --no-color it is plain", async () => {
    const tty = await planOut(true);
    expect(tty).toContain(`${ESC}32m+new${ESC}39m`);
    expect(tty).toContain(`${ESC}31m-old${ESC}39m`);
    for (const plain of [await planOut(false), await planOut(true, false)]) {
      expect(plain).toContain("      -old\n      +new");
      expect(plain).not.toContain(ESC);
    }
  });

  it("colorDiff leaves context lines alone", () => {
    expect(colorDiff(" same")).toBe(" same");
  });
});
