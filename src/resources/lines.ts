// line (line-in-file) and block (block-in-file): edit part of a file the rest of
// which lab does not own. The new content is computed from the current one.
import type { Change, Resource } from "../engine/types.ts";
import { ExitCode, LabError } from "../errors.ts";
import { Type, type Static } from "@sinclair/typebox";
import { checkOptions, closed, oneOf, type ResourceOptions } from "./options.ts";
import { checkPath, pathFact, type PathState } from "./path-fact.ts";
import { textValue, unifiedDiff } from "./text-diff.ts";
import { valueChange } from "./attrs-diff.ts";
import { currentOwner, writeFileAtomic } from "./write-file.ts";
import { withFact } from "./with-fact.ts";

export const LineWant = Type.Object(
  {
    path: Type.String({ minLength: 1 }),
    line: Type.String(),
    /** Lines matching this regexp are replaced by `line` (the last match), or removed with state absent. */
    regexp: Type.Optional(Type.String()),
    state: Type.Optional(oneOf(["present", "absent"])),
    /** Create the file (0644) when missing. */
    create: Type.Optional(Type.Boolean()),
  },
  closed,
);
export type LineWant = Static<typeof LineWant>;

export const BlockWant = Type.Object(
  {
    path: Type.String({ minLength: 1 }),
    block: Type.String(),
    /** Marker text; "{mark}" becomes BEGIN / END. */
    marker: Type.Optional(Type.String()),
    state: Type.Optional(oneOf(["present", "absent"])),
    create: Type.Optional(Type.Boolean()),
  },
  closed,
);
export type BlockWant = Static<typeof BlockWant>;

/** A resource that rewrites a text file through a pure edit function. */
function editResource<W extends { path: string; create?: boolean }>(
  kind: string,
  key: string,
  want: W,
  edit: (text: string) => string,
  opts: ResourceOptions,
): Resource<W, PathState> {
  checkPath(kind, want.path);
  if (want.path.includes("\n")) throw new LabError(`${kind}: path contains a newline`, ExitCode.badInput);
  const fact = pathFact(want.path);
  const editedOf = (have: PathState): string => {
    if (have.kind === "absent" && want.create) return edit("");
    if (have.kind !== "file")
      throw new LabError(
        `${kind}: ${want.path} is ${have.kind === "absent" ? "missing" : `a ${have.kind}`}`,
        ExitCode.failed,
        {},
        "set create: true or fix the path",
      );
    if (have.content === undefined)
      throw new LabError(
        `${kind}: ${want.path} is too large (over 256 KiB) or not UTF-8 text: cannot edit it in place`,
        ExitCode.failed,
      );
    return edit(have.content);
  };
  return withFact(fact, {
    id: `${kind}:${want.path}:${key}`,
    want,
    ...opts,
    writes: () => [want.path],
    diff(_w, have): Change[] {
      const next = editedOf(have);
      const before = have.kind === "file" ? have.content : undefined;
      return next === before
        ? []
        : [
            valueChange("content", `edit ${want.path} (${kind})`, before && textValue(before), textValue(next), {
              diff: unifiedDiff(want.path, before, next),
            }),
          ];
    },
    async apply(ctx, _changes, have) {
      await writeFileAtomic(ctx, want.path, editedOf(have), { mode: have.mode ?? "0644", ...currentOwner(have) });
      ctx.facts.invalidate([fact.key]);
    },
    ok: () => `${want.path} already has it`,
  });
}

export function editLine(text: string, want: LineWant): string {
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const re = want.regexp ? new RegExp(want.regexp) : undefined;
  const hit = (l: string) => (re ? re.test(l) : l === want.line);
  if (want.state === "absent")
    return joinAs(
      text,
      lines.filter((l) => !hit(l)),
    );
  let last = -1;
  lines.forEach((l, i) => {
    if (hit(l)) last = i;
  });
  if (last >= 0) lines[last] = want.line;
  else if (!lines.includes(want.line)) lines.push(want.line);
  return joinAs(text, lines);
}

export function editBlock(text: string, want: BlockWant): string {
  const marker = want.marker ?? "# {mark} MANAGED BY lab";
  const begin = marker.replace("{mark}", "BEGIN");
  const end = marker.replace("{mark}", "END");
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  // The LAST BEGIN (as Ansible's blockinfile): after a stray BEGIN without END, the block is
  // appended once and found again next run, never spliced from the stray marker (user lines lost).
  const b = lines.lastIndexOf(begin);
  const e = b >= 0 ? lines.indexOf(end, b) : -1;
  const body = want.state === "absent" ? [] : [begin, ...want.block.replace(/\n$/, "").split("\n"), end];
  if (b >= 0 && e >= 0) lines.splice(b, e - b + 1, ...body);
  else lines.push(...body);
  return joinAs(text, lines);
}

const join = (lines: string[]) => (lines.length ? `${lines.join("\n")}\n` : "");
/** The edited lines as text; the original text itself when only its missing final newline differs (nothing to do). */
const joinAs = (text: string, lines: string[]) => {
  const out = join(lines);
  return out === `${text}\n` ? text : out;
};

export function line(want: LineWant, opts: ResourceOptions = {}) {
  checkOptions("line", LineWant, want, opts);
  return editResource("line", want.regexp ?? want.line, want, (t) => editLine(t, want), opts);
}
export function block(want: BlockWant, opts: ResourceOptions = {}) {
  checkOptions("block", BlockWant, want, opts);
  return editResource("block", want.marker ?? "lab", want, (t) => editBlock(t, want), opts);
}
