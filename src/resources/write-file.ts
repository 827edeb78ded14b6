// Atomic file write: content goes over stdin into a temp file in the same
// directory (created 0600 under umask 077, so a secret is never readable by
// others, not even while it is written), gets its mode and owner, and is renamed
// over the target ONLY when it has the size and sha256 computed here: a client
// that dies mid-upload leaves the remote `cat` with end of input, and a partial
// file must never replace the old one. Every failure path removes the temp file.
import { createHash } from "node:crypto";
import type { HostCtx } from "../engine/types.ts";
import { raw, sh } from "../sh.ts";
import type { PathState } from "./path-fact.ts";
import { run } from "./run.ts";

export interface Attrs {
  mode: string;
  owner?: string;
  group?: string;
  /** A command run on the staged copy before the rename (`%s` is its path); a non-zero exit keeps the old file. */
  validate?: string;
}

/**
 * The validate command with every `%s` replaced by the staged file's path. The path
 * is mktemp's, held in $t: it is spliced in as "$t" (a quoted expansion), never as text.
 */
export function validateCommand(template: string): string {
  return template.split("%s").join('"$t"');
}

/** The remote script for one staged write (exported for the unit tests that run it with a real sh). */
export function writeScript(path: string, bytes: number, sha256: string, attrs: Attrs): string {
  const chown =
    attrs.owner || attrs.group ? sh`chown ${`${attrs.owner ?? ""}${attrs.group ? `:${attrs.group}` : ""}`} "$t"\n` : "";
  return (
    sh`set -e
p=${path}
want_size=${bytes}
want_sha=${sha256}
umask 077
t=$(mktemp "$(dirname -- "$p")/.lab-tmp.XXXXXX")
trap 'rm -f -- "$t"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 141' PIPE
cat > "$t"
got_size=$(wc -c < "$t" | tr -d ' ')
if [ "$got_size" != "$want_size" ]; then
  echo "staged file has $got_size of $want_size bytes (the upload was cut short); $p was not replaced" >&2; exit 1
fi
got_sha=$(sha256sum < "$t" | cut -c1-64)
if [ "$got_sha" != "$want_sha" ]; then
  echo "staged file has sha256 $got_sha, expected $want_sha; $p was not replaced" >&2; exit 1
fi
chmod ${attrs.mode} "$t"
` +
    chown +
    (attrs.validate
      ? sh`if ! out=$(${raw(validateCommand(attrs.validate))} 2>&1); then
  printf '%s\n' "$out" >&2; echo ${`validate (${attrs.validate}) refused the new content; `}"$p was not replaced" >&2; exit 1
fi
`
      : "") +
    `mv -f -- "$t" "$p"
trap - EXIT`
  );
}

export async function writeFileAtomic(
  ctx: HostCtx,
  path: string,
  content: string | Buffer,
  attrs: Attrs,
): Promise<void> {
  const bytes = Buffer.from(content);
  const digest = createHash("sha256").update(bytes).digest("hex");
  await run(ctx, writeScript(path, bytes.length, digest, attrs), `write ${path}`, { stdin: bytes, kind: "write" });
}

/** The owner and group of an existing file: a rewrite keeps them (the temp file belongs to the login user). */
export const currentOwner = (have: PathState): { owner?: string; group?: string } =>
  have.kind === "file"
    ? { ...(have.owner ? { owner: have.owner } : {}), ...(have.group ? { group: have.group } : {}) }
    : {};

export async function setAttrs(ctx: HostCtx, path: string, attrs: Partial<Attrs>): Promise<void> {
  const parts: string[] = [];
  if (attrs.mode) parts.push(sh`chmod -- ${attrs.mode} ${path}`);
  if (attrs.owner || attrs.group)
    parts.push(sh`chown -- ${`${attrs.owner ?? ""}${attrs.group ? `:${attrs.group}` : ""}`} ${path}`);
  if (parts.length) await run(ctx, parts.join(" && "), `set mode/owner of ${path}`);
}
