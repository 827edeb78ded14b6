// directory: a directory with mode and owner (parents created as needed).
import type { Change, Resource } from "../engine/types.ts";
import { ExitCode, LabError } from "../errors.ts";
import { sh } from "../sh.ts";
import { attrChanges, checkOwner, defined, pathValue, valueChange } from "./attrs-diff.ts";
import { Type, type Static } from "@sinclair/typebox";
import { Mode, checkOptions, closed, oneOf, type ResourceOptions } from "./options.ts";
import { checkPath, pathFact, type PathState } from "./path-fact.ts";
import { octal, run } from "./run.ts";
import { setAttrs } from "./write-file.ts";
import { withFact } from "./with-fact.ts";

export const DirectoryWant = Type.Object(
  {
    path: Type.String({ minLength: 1 }),
    mode: Type.Optional(Mode),
    owner: Type.Optional(Type.String()),
    group: Type.Optional(Type.String()),
    /** absent removes the directory and everything in it. */
    state: Type.Optional(oneOf(["present", "absent"])),
  },
  closed,
);
export type DirectoryWant = Static<typeof DirectoryWant>;

export function directory(want: DirectoryWant, opts: ResourceOptions = {}): Resource<DirectoryWant, PathState> {
  checkOptions("directory", DirectoryWant, want, opts);
  checkPath("directory", want.path);
  checkOwner(`directory ${want.path}`, want);
  const w = { ...want, ...(want.mode ? { mode: octal(want.mode) } : {}) };
  const fact = pathFact(w.path);
  return withFact(fact, {
    id: `directory:${w.path}`,
    want: w,
    ...opts,
    // Creating a directory leaves what is (not) under it as it was; removing it removes all of that.
    writes: () => (w.state === "absent" ? [w.path, `${w.path.replace(/\/+$/, "")}/`] : [w.path]),
    diff: directoryDiff,
    async apply(ctx, changes) {
      if (w.state === "absent") await run(ctx, sh`rm -rf -- ${w.path}`, `remove ${w.path}`);
      else {
        if (changes.some((c) => c.key === "state")) await run(ctx, sh`mkdir -p -- ${w.path}`, `create ${w.path}`);
        await setAttrs(ctx, w.path, w);
      }
      ctx.facts.invalidate([fact.key]);
    },
    ok: () => (w.state === "absent" ? "absent" : "exists with the wanted attributes"),
  });
}

export function directoryDiff(want: DirectoryWant, have: PathState): Change[] {
  if (want.state === "absent")
    return have.kind === "absent"
      ? []
      : [valueChange("state", `remove directory ${want.path} recursively`, pathValue(have), null)];
  if (have.kind !== "dir" && have.kind !== "absent")
    throw new LabError(
      `${want.path} is a ${have.kind}, not a directory`,
      ExitCode.failed,
      {},
      "remove it first or fix the path",
    );
  const { state: _s, ...wanted } = want;
  const created: Change[] =
    have.kind === "absent"
      ? [valueChange("state", `create directory ${want.path}`, null, { kind: "dir", ...defined(wanted) })]
      : [];
  return [...created, ...attrChanges(want, have, have.kind === "dir")];
}
