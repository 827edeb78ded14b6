// One remote script for several commands of one host (ADR 0023): the commands
// run in order, each in its own `sh -c` with its own stdin, and each one's stdout,
// stderr and exit code come back framed by a random boundary. The first command
// that exits non-zero stops the script: the ones after it do not run. The whole
// script goes over stdin to `sh -s` (nothing but `sh -s` on the command line),
// each command's stdin as base64 in a quoted here-document, so a payload (a
// secret file's content) is never on a command line and never interpreted.
import { randomBytes } from "node:crypto";
import { quote } from "../sh.ts";

export interface BatchCommand {
  /** A `sh -c` command line (built with `sh`). */
  readonly command: string;
  /** Bytes for its stdin; none: /dev/null (never the script's own stdin). */
  readonly stdin?: string | Buffer;
}

export interface CommandStatus {
  code: number;
  stdout: string;
  stderr: string;
}

export const newBoundary = (): string => `@@lab-${randomBytes(8).toString("hex")}`;

/** The script for `sh -s`. `boundary` must not occur in any command (a fresh random one never does). */
export function batchScript(commands: readonly BatchCommand[], boundary: string): string {
  return commands
    .map((c, i) => {
      const mark = quote(`${boundary}:${i}`);
      const payload = c.stdin === undefined ? undefined : Buffer.from(c.stdin);
      const run =
        payload && payload.length > 0
          ? `base64 -d <<'${boundary}.in' | sh -c ${quote(c.command)}\n${wrap(payload.toString("base64"))}\n${boundary}.in\n`
          : `sh -c ${quote(c.command)} </dev/null\n`;
      return (
        `printf '%s\\n' ${mark}; printf '%s\\n' ${mark} >&2\n` +
        run +
        `rc=$?\nprintf '\\n%s:%s\\n' ${mark} "$rc"; printf '\\n%s:end\\n' ${mark} >&2\n` +
        `[ "$rc" -eq 0 ] || exit 0\n`
      );
    })
    .join("");
}

/** Base64 in lines of 76 (short lines for every shell's here-document reader). */
const wrap = (b64: string): string => b64.replace(/(.{76})(?=.)/g, "$1\n");

/**
 * The status of each command from the script's output, in order; undefined for a
 * command that did not run (after a failure) or whose end never came back (the
 * connection or the script died in it).
 */
export function parseBatch(
  stdout: string,
  stderr: string,
  count: number,
  boundary: string,
): (CommandStatus | undefined)[] {
  const out: (CommandStatus | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    const head = `${boundary}:${i}\n`;
    const start = stdout.indexOf(head);
    const tail = start < 0 ? null : new RegExp(`\\n${boundary}:${i}:(\\d+)\\n`).exec(stdout.slice(start));
    if (start < 0 || !tail) {
      out.push(undefined);
      continue;
    }
    const eStart = stderr.indexOf(head);
    const eEnd = eStart < 0 ? -1 : stderr.indexOf(`\n${boundary}:${i}:end\n`, eStart);
    out.push({
      code: Number(tail[1]),
      stdout: stdout.slice(start + head.length, start + tail.index),
      stderr: eStart < 0 ? "" : stderr.slice(eStart + head.length, eEnd < 0 ? undefined : eEnd),
    });
  }
  return out;
}
