// Running a step's command on a host: a non-zero exit becomes a LabError that
// names the host, the command and the tail of stderr (redacted).
import { LabError, ExitCode } from "../errors.ts";
import { redact } from "../secrets/secret.ts";
import type { HostCtx } from "../engine/types.ts";
import type { ExecResult } from "../transport/types.ts";

export async function run(ctx: HostCtx, command: string, what: string, stdin?: string | Buffer): Promise<ExecResult> {
  ctx.log.debug(`[${ctx.host.name}] $ ${command}`);
  const r = await ctx.transport.exec(command, stdin === undefined ? {} : { stdin });
  if (r.code !== 0) {
    const tail = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-5).join("\n    ");
    throw new LabError(`${what} failed (exit ${r.code})${tail ? `:\n    ${redact(tail)}` : ""}`, ExitCode.failed, { host: ctx.host.name, command: redact(command) });
  }
  return r;
}

/** Normalise a mode to 4 octal digits ("644" -> "0644"). */
export const octal = (mode: string | number): string => {
  const s = typeof mode === "number" ? mode.toString(8) : mode;
  if (!/^[0-7]{3,4}$/.test(s)) throw new LabError(`invalid mode ${JSON.stringify(mode)}: use octal like "0644"`, ExitCode.badInput);
  return s.padStart(4, "0");
};
