// The path fact: what is at a path (absent, file, dir, link), its mode, owner,
// group, size, sha256 and, for small files, the content (for plan diffs).
import { createHash } from "node:crypto";
import type { Fact } from "../engine/types.ts";
import { badInput } from "../errors.ts";
import { sh } from "../sh.ts";

export interface PathState {
  kind: "absent" | "file" | "dir" | "link" | "other";
  mode?: string;
  owner?: string;
  group?: string;
  size?: number;
  sha256?: string;
  /** Present for files up to MAX_CONTENT bytes. */
  content?: string;
}

const MAX_CONTENT = 256 * 1024;

/** No NUL byte: a command line cannot carry one (it would surface as a dropped connection, not as bad input). */
export function checkNoNul(what: string, value: string): void {
  if (value.includes("\0"))
    throw badInput(
      `${what} contains a NUL byte: ${JSON.stringify(value)}`,
      {},
      "remove the NUL byte (\\0) from the value",
    );
}

/** A path a resource manages: absolute (relative to what? the login user's home is not a place to guess) and NUL-free. */
export function checkPath(what: string, path: string): void {
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw badInput(`${what}: path ${JSON.stringify(path)} is not absolute`, {}, "give the full path, starting with /");
  }
  checkNoNul(`${what}: path`, path);
}

export function pathFact(path: string): Fact<PathState> {
  return {
    key: `path:${path}`,
    command: sh`p=${path}
if [ -L "$p" ]; then echo link
elif [ -d "$p" ]; then echo dir; stat -c '%a %U %G %s' "$p"
elif [ -f "$p" ]; then echo file; stat -c '%a %U %G %s' "$p"; sha256sum < "$p" | cut -c1-64
  if [ "$(stat -c %s "$p")" -le ${MAX_CONTENT} ]; then base64 < "$p" | tr -d '\\n'; fi
elif [ -e "$p" ]; then echo other
else echo absent; fi`,
    parse: parsePathState,
    dependsOn: [path],
  };
}

export function parsePathState(stdout: string): PathState {
  const [kind = "absent", statLine = "", sha, b64] = stdout.split("\n");
  const state: PathState = { kind: kind as PathState["kind"] };
  if (kind === "file" || kind === "dir") {
    const [mode = "", owner, group, size] = statLine.split(" ");
    Object.assign(state, { mode: mode.padStart(4, "0"), owner, group, size: Number(size) });
  }
  if (kind === "file") {
    state.sha256 = sha;
    // Content only when it is known exactly: a file over MAX_CONTENT prints no base64, which
    // looks like an empty file's, so the bytes must match the sha256; text that is not UTF-8
    // would not survive a decode/encode round trip (an edit would corrupt it).
    const bytes = Buffer.from(b64 ?? "", "base64");
    const text = bytes.toString("utf8");
    if (
      b64 !== undefined &&
      createHash("sha256").update(bytes).digest("hex") === sha &&
      Buffer.from(text, "utf8").equals(bytes)
    )
      state.content = text;
  }
  return state;
}

export const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");
