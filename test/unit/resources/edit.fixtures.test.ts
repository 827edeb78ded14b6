// editLine / editBlock as data: text + want in, text out. Every edit must be
// idempotent: editing its own output changes nothing.
import { describe, expect, it } from "vitest";
import { editBlock, editLine, type BlockWant, type LineWant } from "../../../src/resources/lines.ts";
import { cases } from "../helpers/fixtures.ts";

interface EditCase<W> {
  about?: string;
  text: string;
  want: W;
  out: string;
}

const edits = {
  editLine: (text: string, w: unknown) => editLine(text, w as LineWant),
  editBlock: (text: string, w: unknown) => editBlock(text, w as BlockWant),
};

describe.each(Object.keys(edits) as (keyof typeof edits)[])("%s", (name) => {
  it.each(cases<EditCase<unknown>>("resources", name))("%s", (_case, c) => {
    const out = edits[name](c.text, c.want);
    expect(out).toBe(c.out);
    expect(edits[name](out, c.want)).toBe(out);
  });
});
