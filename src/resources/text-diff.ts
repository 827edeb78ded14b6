// Unified diffs of file contents for `lab plan` (via the `diff` package).
import { createTwoFilesPatch } from "diff";

export function unifiedDiff(path: string, before: string | undefined, after: string): string {
  return createTwoFilesPatch(before === undefined ? "/dev/null" : `a${path}`, `b${path}`, before ?? "", after, "", "", {
    context: 3,
  })
    .split("\n")
    .slice(1) // drop the "Index"/separator line
    .join("\n")
    .trimEnd();
}
