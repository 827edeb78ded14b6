// The crontab resource's pure parts: what `crontab -l` means, and the block edit
// that leaves every other line as it was.
import { describe, expect, it } from "vitest";
import { LabError } from "../../../src/errors.ts";
import { crontab, crontabBlock, crontabFact, editCrontab } from "../../../src/resources/crontab.ts";

const marker = "# {mark} lab schedule /srv/lab";

describe("crontab", () => {
  it("reads `crontab -l`: its text, none as empty, anything else an error with what to do", () => {
    expect(crontabFact.parse('MAILTO=""\n0 * * * * true\n@@rc:0\n', 0)).toBe('MAILTO=""\n0 * * * * true\n');
    expect(crontabFact.parse("no crontab for op\n@@rc:1\n", 0)).toBe("");
    const e = (() => {
      try {
        crontabFact.parse("sh: 1: crontab: not found\n@@rc:127\n", 0);
      } catch (x) {
        return x;
      }
    })() as LabError;
    expect(e).toBeInstanceOf(LabError);
    expect(e.message).toBe("crontab -l failed: sh: 1: crontab: not found");
    expect(e.hint).toContain("apt-get install cron");
    expect(() => crontabFact.parse("You (op) are not allowed to use this program (crontab)\n@@rc:1\n", 0)).toThrow(
      /not allowed/,
    );
  });

  it("adds, replaces and removes only its block; a second edit is a no-op", () => {
    const mine = "# mine\n5 * * * * echo a\n";
    const added = editCrontab(mine, { marker, block: "30 2 * * * lab backup" });
    expect(added).toBe(`${mine}# BEGIN lab schedule /srv/lab\n30 2 * * * lab backup\n# END lab schedule /srv/lab\n`);
    expect(editCrontab(added, { marker, block: "30 2 * * * lab backup" })).toBe(added);
    expect(crontabBlock(added, marker)).toEqual(["30 2 * * * lab backup"]);
    const after = `${added}7 * * * * echo b\n`;
    expect(editCrontab(after, { marker, block: "0 3 * * * lab backup" })).toBe(
      `${mine}# BEGIN lab schedule /srv/lab\n0 3 * * * lab backup\n# END lab schedule /srv/lab\n7 * * * * echo b\n`,
    );
    expect(editCrontab(after, { marker, block: "", state: "absent" })).toBe(`${mine}7 * * * * echo b\n`);
    expect(editCrontab(mine, { marker, block: "", state: "absent" })).toBe(mine);
  });

  it("diff: one change with a unified diff; nothing when the block is there", () => {
    const r = crontab({ marker, block: "30 2 * * * lab backup" });
    const [c, ...rest] = r.diff(r.want, "5 * * * * echo a\n");
    expect(rest).toEqual([]);
    expect(c!.summary).toMatch(/^add a block to the crontab of /);
    expect(c!.diff).toContain("+30 2 * * * lab backup");
    expect(r.diff(r.want, editCrontab("", r.want))).toEqual([]);
    expect(() => crontab({ marker: "# lab", block: "" })).toThrow(/must be one line holding \{mark\}/);
  });
});
