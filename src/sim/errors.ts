// The error a simulated API handler throws; the server turns it into PVE's
// reply: status line reason = first line of the message, JSON body with
// `message` (PVE >= 8.3) and, for parameter errors, `errors`.

export class SimError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Per-parameter messages (400 "Parameter verification failed."). */
    readonly errors?: Record<string, string>,
  ) {
    super(message);
  }
}

/** A plain `die` in PVE handler code: HTTP 500 with the message. */
export const fail = (message: string): SimError => new SimError(500, message);

/** `raise_param_exc`: HTTP 400 with per-parameter errors. */
export const paramError = (errors: Record<string, string>): SimError =>
  new SimError(400, "Parameter verification failed.", errors);

export const notFound = (what: string): SimError => new SimError(500, what);
