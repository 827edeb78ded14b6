// Where user code threw: the first stack frame in a project file (a playbook or
// a role), skipping lab's own engine and node_modules. Playbooks load through
// tsx, whose source maps make these the TypeScript positions.
import { resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Where } from "../errors.ts";
import { isLabCode } from "./lab-code.ts";

const FRAME = /(?:\(|at )((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?$/;

/** root: only frames under it count (default: any file outside lab's engine). */
export function throwSite(e: unknown, root = "/"): Required<Pick<Where, "file" | "line" | "col">> | undefined {
  const stack = e instanceof Error ? e.stack : undefined;
  if (!stack) return undefined;
  const projectDir = resolve(root) === sep ? sep : resolve(root) + sep;
  for (const line of stack.split("\n").slice(1)) {
    const m = FRAME.exec(line.trim());
    if (!m) continue;
    const file = m[1]!.startsWith("file://") ? fileURLToPath(m[1]!) : m[1]!;
    if (!file.startsWith(projectDir) || isLabCode(file) || file.split(sep).includes("node_modules")) continue;
    return { file, line: Number(m[2]), col: Number(m[3]) };
  }
  return undefined;
}
