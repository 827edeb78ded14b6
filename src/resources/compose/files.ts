// A stack's files (compose.yaml, env files, configs) as one revision: named by
// the hash of its contents, shipped to the host over stdin (never in a command
// line), unpacked by a small sh function.
import { createHash } from "node:crypto";
import { badInput } from "../../errors.ts";
import { Secret, isSecret } from "../../secrets/secret.ts";
import { octal } from "../run.ts";

export interface StackFile {
  /** Relative path inside the revision: "compose.yaml", "wiki.env", "prometheus/prometheus.yml". */
  name: string;
  content: string;
  /** Holds a secret value: never shown (no diff, no read-back), mode 0600 by default. */
  secret: boolean;
  /** Octal; env files and secret content default to 0600, others to 0644. */
  mode: string;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*(\/[A-Za-z0-9_][A-Za-z0-9._-]*)*$/;

/** A file of a stack; a Secret content (or `secret: true`) is written but never shown. */
export function stackFile(
  name: string,
  content: string | Secret,
  opts: { mode?: string; secret?: boolean } = {},
): StackFile {
  if (!NAME.test(name) || name.split("/").some((p) => p === "." || p === "..")) {
    throw badInput(
      `stack file name ${JSON.stringify(name)} is not a plain relative path`,
      {},
      "use letters, digits, '.', '_', '-' and '/' (no '..', no leading '/')",
    );
  }
  const secret = isSecret(content) || opts.secret === true;
  const mode = octal(opts.mode ?? (secret || name.endsWith(".env") ? "0600" : "0644"));
  return { name, content: isSecret(content) ? content.reveal() : content, secret, mode };
}
const sha = (text: string) => createHash("sha256").update(text).digest("hex");

/** The revision id: the first 12 hex digits of a hash over every file's name, mode and content hash. */
export function revisionId(files: readonly StackFile[]): string {
  const lines = [...files]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((f) => `${f.name}\0${f.mode}\0${sha(f.content)}`);
  return `rev-${sha(lines.join("\n")).slice(0, 12)}`;
}

export const fileSha = (f: StackFile): string => sha(f.content);

/** stdin for `lab_unpack DIR`: one line per file, "NAME MODE BASE64". */
export const bundle = (files: readonly StackFile[]): string =>
  files.map((f) => `${f.name} ${f.mode} ${Buffer.from(f.content, "utf8").toString("base64")}\n`).join("");

/**
 * sh function: unpack a bundle from stdin into directory $1 (names were checked by stackFile). Each
 * file is born 0600 (umask), gets its mode, then is renamed into place: a secret env file is never
 * readable by others, not even for a moment, and never half-written under its own name.
 */
export const UNPACK = `lab_unpack() {
  while read -r n m b; do
    case "$n" in */*) (umask 022; mkdir -p "$1/\${n%/*}") || return 1 ;; esac
    (umask 077; printf '%s' "$b" | base64 -d > "$1/.lab-tmp") || return 1
    chmod "$m" "$1/.lab-tmp" && mv -f "$1/.lab-tmp" "$1/$n" || return 1
  done
}`;
