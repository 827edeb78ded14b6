// Errors of the Proxmox client: an API answer that is not 200, a transport
// failure, a failed task. All are LabErrors (exit code 3 = a host failed).
import { ExitCode, LabError } from "../errors.ts";

export class ProxmoxApiError extends LabError {
  override readonly name = "LabError";
  constructor(
    readonly endpoint: string,
    readonly method: string,
    readonly path: string,
    /** HTTP status; 0 when no answer arrived (see `code`). */
    readonly status: number,
    /** PVE's message: JSON `message`, else the status line. */
    readonly reason: string,
    /** Per-parameter messages of a 400. */
    readonly errors: Readonly<Record<string, string>> = {},
    /** Node error code of a transport failure (ECONNRESET, ETIMEDOUT, ...). */
    readonly errno?: string,
    hint?: string,
    options?: { cause?: unknown },
  ) {
    const params = Object.entries(errors)
      .map(([k, v]) => `\n  ${k}: ${v.trim()}`)
      .join("");
    const what = status ? `${status} ${reason}` : `${errno ?? "error"}: ${reason}`;
    super(
      `${method} ${endpoint}${path}: ${what}${params}`,
      ExitCode.failed,
      { host: endpoint },
      hint ?? hintFor(status),
      options,
    );
  }
}

function hintFor(status: number): string | undefined {
  if (status === 401)
    return "check the API token id/secret (or user/password) of this Proxmox endpoint in the inventory";
  if (status === 403)
    return "grant the missing privilege to the token (pveum acl modify ... ), or use a token without privilege separation";
  if (status === 501) return "this Proxmox version does not have that API call; check the version lab supports";
  return undefined;
}

export class ProxmoxTaskError extends LabError {
  override readonly name = "LabError";
  constructor(
    readonly upid: string,
    readonly exitstatus: string,
    /** The last lines of the task log. */
    readonly logTail: readonly string[],
    message: string,
    hint?: string,
  ) {
    super(message, ExitCode.failed, { host: upid.split(":")[1] }, hint);
  }
}
