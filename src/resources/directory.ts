// directory: a directory with mode and owner (parents created as needed).
import type { Change, Resource } from "../engine/types.ts";
import { ExitCode, LabError } from "../errors.ts";
import { sh } from "../sh.ts";
import { attrChanges, checkOwner } from "./attrs-diff.ts";
import type { ResourceOptions } from "./file.ts";
import { checkPath, pathFact, type PathState } from "./path-fact.ts";
import { octal, run } from "./run.ts";
import { setAttrs } from "./write-file.ts";
import { withFact } from "./with-fact.ts";

export interface DirectoryWant {
  path: string;
  mode?: string;
  owner?: string;
  group?: string;
  /** absent removes the directory and everything in it. */
  state?: "present" | "absent";
}

export function directory(want: DirectoryWant, opts: ResourceOptions = {}): Resource<DirectoryWant, PathState> {
  checkPath("directory", want.path);
  checkOwner(`directory ${want.path}`, want);
  const w = { ...want, ...(want.mode ? { mode: octal(want.mode) } : {}) };
  const fact = pathFact(w.path);
  return withFact(fact, {
    id: `directory:${w.path}`,
    want: w,
    ...opts,
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
  if (want.state === "absent") return have.kind === "absent" ? [] : [{ key: "state", summary: `remove directory ${want.path} recursively` }];
  if (have.kind !== "dir" && have.kind !== "absent") throw new LabError(`${want.path} is a ${have.kind}, not a directory`, ExitCode.failed, {}, "remove it first or fix the path");
  const created: Change[] = have.kind === "absent" ? [{ key: "state", summary: `create directory ${want.path}` }] : [];
  return [...created, ...attrChanges(want, have, have.kind === "dir")];
}
