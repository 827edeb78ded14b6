// file: a regular file with given content (inline or rendered template), mode
// and owner; written atomically. Secret content is never shown in diffs.
import type { Change, HostCtx, Resource } from "../engine/types.ts";
import { ExitCode, LabError } from "../errors.ts";
import { Secret, isSecret } from "../secrets/secret.ts";
import { sh } from "../sh.ts";
import { attrChanges, checkOwner, pathValue, valueChange } from "./attrs-diff.ts";
import { checkPath, pathFact, sha256, type PathState } from "./path-fact.ts";
import { SENSITIVE } from "../engine/types.ts";
import { octal, run } from "./run.ts";
import { textValue, unifiedDiff } from "./text-diff.ts";
import { currentOwner, setAttrs, writeFileAtomic } from "./write-file.ts";
import { withFact } from "./with-fact.ts";
import { Type, type Static } from "@sinclair/typebox";
import { Mode, Text, checkOptions, closed, oneOf, type ResourceOptions } from "./options.ts";

export const FileWant = Type.Object(
  {
    /** Absolute path on the host. */
    path: Type.String({ minLength: 1 }),
    /** Content (a Secret is written but never shown). Omit to manage only mode/owner of an existing file. */
    content: Type.Optional(Text),
    /** Octal, e.g. "0644" (default: keep the current mode; 0644 for a new file; always 0600 for secret content). */
    mode: Type.Optional(Mode),
    owner: Type.Optional(Type.String()),
    group: Type.Optional(Type.String()),
    state: Type.Optional(oneOf(["present", "absent"])),
    /**
     * A command run on the staged copy before it replaces the file, `%s` being its path
     * (e.g. "visudo -cf %s"); a non-zero exit keeps the old file and fails the step.
     * Written by the playbook's author, like a `command`: only `%s` is filled in (quoted).
     */
    validate: Type.Optional(Type.String({ minLength: 1, pattern: "%s" })),
  },
  closed,
);
export type FileWant = Static<typeof FileWant>;

export type { ResourceOptions } from "./options.ts";

export function file(want: FileWant, opts: ResourceOptions = {}): Resource<FileWant, PathState> {
  checkOptions("file", FileWant, want, opts);
  checkPath("file", want.path);
  checkOwner(`file ${want.path}`, want);
  const w: FileWant = { ...want, ...(want.mode ? { mode: octal(want.mode) } : {}) };
  const fact = pathFact(w.path);
  return withFact(fact, {
    id: `file:${w.path}`,
    want: w,
    ...opts,
    writes: () => [w.path],
    diff: fileDiff,
    async apply(ctx: HostCtx, changes, have) {
      if (w.state === "absent") {
        await run(ctx, sh`rm -f -- ${w.path}`, `remove ${w.path}`);
      } else if (changes.some((c) => c.key === "content") && w.content !== undefined) {
        const text = isSecret(w.content) ? w.content.reveal() : w.content;
        await writeFileAtomic(ctx, w.path, text, {
          mode: newMode(w, have),
          ...currentOwner(have),
          ...pick(w),
          ...(w.validate ? { validate: w.validate } : {}),
        });
      } else {
        const mode = wantedMode(w);
        await setAttrs(ctx, w.path, { ...(mode ? { mode } : {}), ...pick(w) });
      }
      ctx.facts.invalidate([fact.key]);
    },
    ok: (have) =>
      w.state === "absent" ? "absent" : `content and attributes match (sha256 ${have.sha256?.slice(0, 12) ?? "-"})`,
  });
}

const pick = (w: FileWant) => ({ ...(w.owner ? { owner: w.owner } : {}), ...(w.group ? { group: w.group } : {}) });
/** The mode asked for; secret content is always 0600 unless a mode is given (also when the file was 0644 before). */
const wantedMode = (w: FileWant): string | undefined => w.mode ?? (isSecret(w.content) ? "0600" : undefined);
const newMode = (w: FileWant, have: PathState) =>
  wantedMode(w) ?? (have.kind === "file" && have.mode ? have.mode : "0644");

export function fileDiff(want: FileWant, have: PathState): Change[] {
  if (want.state === "absent") {
    // apply runs `rm -f`, which cannot remove a directory: say so in the plan, not halfway through apply.
    if (have.kind === "dir")
      throw new LabError(
        `${want.path} is a directory; a file resource will not remove it`,
        ExitCode.failed,
        {},
        'use directory({ path, state: "absent" }) to remove a directory tree',
      );
    return have.kind === "absent"
      ? []
      : [valueChange("state", `remove ${want.path} (${have.kind})`, pathValue(have), null)];
  }
  if (have.kind !== "file" && have.kind !== "absent")
    throw new LabError(
      `${want.path} is a ${have.kind}; refusing to replace it with a file`,
      ExitCode.failed,
      {},
      "remove it first or fix the path",
    );
  const existed = have.kind === "file";
  if (want.content === undefined) {
    if (!existed)
      throw new LabError(
        `${want.path} does not exist and no content was given`,
        ExitCode.failed,
        {},
        "give content, or create the file in an earlier step",
      );
    return attrChanges(want, have, true);
  }
  const secret = isSecret(want.content);
  const text = secret ? (want.content as Secret).reveal() : (want.content as string);
  const out: Change[] = [];
  if (!existed || have.sha256 !== sha256(text)) {
    out.push({
      key: "content",
      summary: `${existed ? "update" : "create"} ${want.path}${secret ? " (secret content)" : ` (${Buffer.byteLength(text)} bytes)`}`,
      // A secret's value never enters a Change: only the marker.
      ...(secret
        ? { before: existed ? SENSITIVE : null, after: SENSITIVE, sensitive: true }
        : { before: existed ? (have.content ?? `sha256:${have.sha256}`) : null, after: textValue(text) }),
      ...(secret || (existed && have.content === undefined)
        ? {}
        : { diff: unifiedDiff(want.path, existed ? have.content : undefined, text) }),
    });
  }
  const wantMode = wantedMode(want) ?? (existed ? undefined : newMode(want, have));
  return [
    ...out,
    ...attrChanges({ ...want, ...(wantMode ? { mode: wantMode } : {}) }, have, existed).filter(
      (c) => existed || c.key !== "mode" || want.mode,
    ),
  ];
}
