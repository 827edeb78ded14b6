// A step's command that exited non-zero, as the step's failure: the same message
// whether it ran alone (src/resources/run.ts) or in the host's batch script.
import { ExitCode, LabError } from "../errors.ts";
import { redact } from "../secrets/secret.ts";
import type { ExecResult } from "../transport/types.ts";

/** A command's non-zero exit as the step's failure: what, the exit code, the tail of its output (redacted). */
export function commandFailed(host: string, what: string, command: string, r: ExecResult): LabError {
  const tail = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-5).join("\n    ");
  return new LabError(`${what} failed (exit ${r.code})${tail ? `:\n    ${redact(tail)}` : ""}`, ExitCode.failed, {
    host,
    command: redact(command),
  });
}
