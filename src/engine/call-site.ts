// Where a playbook or role called into lab (file:line:col of its source, through
// tsx's source maps): role-var and resource-option errors point at that line.
import { fileURLToPath } from "node:url";
import { isLabCode } from "./lab-code.ts";

export interface Position {
  file: string;
  line: number;
  col: number;
}

/** The first stack frame outside lab's own src/ and node_modules: the line in a playbook or role that called. */
export function callSite(): Position | undefined {
  for (const frame of (new Error().stack ?? "").split("\n").slice(1)) {
    const m = /\(?((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?\s*$/.exec(frame);
    if (!m) continue;
    const file = m[1]!.startsWith("file://") ? fileURLToPath(m[1]!) : m[1]!;
    if (isLabCode(file) || file.includes("/node_modules/")) continue;
    return { file, line: Number(m[2]), col: Number(m[3]) };
  }
  return undefined;
}
