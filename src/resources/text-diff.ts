// Unified diffs of file contents for `lab plan` (via the `diff` package).
import { createHash } from "node:crypto";
import { createTwoFilesPatch } from "diff";

/** A text as a before/after value: over 64 KiB its digest stands in (a 10 MB value would make --json unreadable). */
export const textValue = (t: string): string =>
  Buffer.byteLength(t) <= 64 * 1024 ? t : `sha256:${createHash("sha256").update(t).digest("hex")}`;

export function unifiedDiff(path: string, before: string | undefined, after: string): string {
  return createTwoFilesPatch(before === undefined ? "/dev/null" : `a${path}`, `b${path}`, before ?? "", after, "", "", {
    context: 3,
  })
    .split("\n")
    .slice(1) // drop the "Index"/separator line
    .join("\n")
    .trimEnd();
}
