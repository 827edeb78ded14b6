// Running a step's command on a host: a non-zero exit becomes a LabError that
// names the host, the command and the tail of stderr (redacted). Every command
// gets a time limit by kind (src/transport/timeouts.ts) unless the resource set one.
import { LabError, ExitCode, UnreachableError } from "../errors.ts";
import { redact } from "../secrets/secret.ts";
import type { HostCtx } from "../engine/types.ts";
import { CommandTimeoutError, timeoutMs, type CommandKind } from "../transport/timeouts.ts";
import type { ExecResult } from "../transport/types.ts";

export interface RunOptions {
  /** Bytes written to the command's stdin (never on its command line: secrets go here). */
  stdin?: string | Buffer;
  /** Which default limit applies (default "change": a small edit like mkdir or chmod). */
  kind?: CommandKind;
  /** The resource's own limit in seconds (its `timeout` option). */
  timeout?: number | undefined;
}

export async function run(ctx: HostCtx, command: string, what: string, opts: RunOptions = {}): Promise<ExecResult> {
  ctx.log.debug(`[${ctx.host.name}] $ ${command}`);
  const limit = timeoutMs(opts.kind ?? "change", opts.timeout);
  let r: ExecResult;
  try {
    r = await ctx.transport.exec(command, {
      timeoutMs: limit,
      ...(opts.stdin === undefined ? {} : { stdin: opts.stdin }),
    });
  } catch (e) {
    // Name the step, not just the transport's view of it.
    if (e instanceof CommandTimeoutError)
      throw new LabError(
        `${what} ${e.message}`,
        ExitCode.failed,
        { host: ctx.host.name, command: redact(command) },
        e.hint,
        { cause: e },
      );
    // A connection that died mid-command (the transport names the command; a failed connect does not).
    if (e instanceof UnreachableError && e.where.command)
      throw new UnreachableError(ctx.host.name, `${what}: ${e.message}`, e.hint, {
        cause: e,
        command: redact(command),
      });
    throw e;
  }
  if (r.code !== 0) {
    const tail = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-5).join("\n    ");
    throw new LabError(`${what} failed (exit ${r.code})${tail ? `:\n    ${redact(tail)}` : ""}`, ExitCode.failed, {
      host: ctx.host.name,
      command: redact(command),
    });
  }
  return r;
}

/** Normalise a mode to 4 octal digits ("644" -> "0644"). */
export const octal = (mode: string | number): string => {
  const s = typeof mode === "number" ? mode.toString(8) : mode;
  if (!/^[0-7]{3,4}$/.test(s))
    throw new LabError(`invalid mode ${JSON.stringify(mode)}: use octal like "0644"`, ExitCode.badInput);
  return s.padStart(4, "0");
};
