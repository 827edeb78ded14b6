// The PVE request pipeline, in pveproxy's order: authenticate (401 before
// routing), route (501), validate against the official schema (400), check
// permissions (403), run the handler (500 for a `die`), and check the reply
// against the schema's `returns` so the simulator cannot drift from real PVE.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiSchema, HttpMethod } from "../proxmox/schema.ts";
import { violationsToErrors } from "../proxmox/schema.ts";
import { replyViolations } from "../proxmox/known-drift.ts";
import { type AuthId, authenticate } from "./auth.ts";
import type { Call, Routes, SimContext } from "./context.ts";
import { SimError } from "./errors.ts";
import type { HttpFault } from "./faults.ts";
import { Envelope, readParams, reason, sendEmpty, sendJson } from "./http.ts";
import { checkExpression } from "./permissions.ts";

const SERVER = "pve-api-daemon/3.0";

const ANONYMOUS: AuthId = { userid: "", authid: "", ticket: false };

export interface PipelineOptions {
  readonly sim: SimContext;
  readonly schema: ApiSchema;
  readonly routes: Routes;
  /** What to do when a reply breaks the schema: fail the call (default in tests), warn, or ignore. */
  readonly checkReplies: "error" | "warn" | "off";
  /** Real PVE waits ~3 s before answering a failed login; default 0 here. */
  readonly authFailDelayMs: number;
  /** Admin endpoints outside /api2 (faults, state): called with an authenticated root. */
  readonly admin: (method: string, path: string, params: Record<string, unknown>) => Promise<unknown>;
  readonly log: (line: string) => void;
}

export function pveRequestHandler(opts: PipelineOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const started = Date.now();
    handle(opts, req, res)
      .catch((e: unknown) => reply(res, toSimError(e), true))
      .finally(() =>
        opts.log(`${req.method} ${req.url?.split("?")[0]} -> ${res.statusCode} (${Date.now() - started} ms)`),
      );
  };
}

async function handle(opts: PipelineOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { sim, schema } = opts;
  const url = new URL(req.url ?? "/", "https://sim");
  const method = (req.method ?? "GET").toUpperCase();

  if (url.pathname.startsWith("/_sim/")) {
    const auth = authenticate(sim.state, "GET", req.headers);
    if (auth.userid !== "root@pam") throw new SimError(403, "simulator admin needs root@pam");
    const data = await opts.admin(method, url.pathname, await readParams(req, url));
    return sendJson(res, 200, "OK", { data }, SERVER);
  }
  const format = /^\/api2\/([^/]+)(\/.*)?$/.exec(url.pathname);
  if (!format) throw new SimError(501, "no such uri");
  if (format[1] !== "json")
    throw new SimError(501, `unsupported format '${format[1]}' (the lab simulator speaks json only)`);
  const path = format[2] ?? "/";

  const match = schema.match(path);
  const info = match && schema.method(match.template, method);
  const world = (info?.permissions as { user?: string } | undefined)?.user === "world";
  let auth = ANONYMOUS;
  if (!world) {
    try {
      auth = authenticate(sim.state, method, req.headers);
    } catch (e) {
      if (opts.authFailDelayMs) await new Promise((r) => setTimeout(r, opts.authFailDelayMs));
      return reply(res, toSimError(e), false);
    }
  }
  if (!info) throw new SimError(501, `Method '${method} ${path}' not implemented`);
  if (auth.tokenid && info.allowtoken === 0) {
    throw new SimError(403, `URI '${path}' not available with API token, need proper ticket.`);
  }

  const fault = sim.faults.takeHttp(method, path);
  if (fault && fault.when !== "after") failWith(req, fault);

  const params = await readParams(req, url);
  const check = schema.checkRequest(method, path, params);
  if (check.status === 400)
    throw new SimError(400, "Parameter verification failed.", violationsToErrors(check.violations));
  const merged = { ...params, ...check.pathParams };
  const expr = (info.permissions as { check?: unknown[] } | undefined)?.check;
  if (expr && !world) checkExpression(sim.state, auth, expr, merged);

  const template = check.template!;
  const handler = opts.routes[`${method} ${template}`];
  if (!handler) throw new SimError(501, `Method '${method} ${path}' not implemented by the lab simulator`);
  const call: Call = { method: method as HttpMethod, path, template, params: merged, auth, sim };
  const result = await handler(call);
  if (method !== "GET") sim.save();
  if (fault) failWith(req, fault);

  const envelope = result instanceof Envelope ? result : new Envelope(result ?? null, {});
  if (opts.checkReplies !== "off") {
    const bad = replyViolations(schema, "pve", method, template, envelope.data);
    if (bad.length) {
      const text = `simulator reply to ${method} ${template} violates the PVE schema: ${bad.map((v) => `${v.path}: ${v.message}`).join("; ")}`;
      if (opts.checkReplies === "error") throw new SimError(500, text);
      opts.log(`WARNING ${text}`);
    }
  }
  sendJson(res, 200, "OK", { data: envelope.data, ...envelope.extra }, SERVER);
}

/** An injected fault: a dropped connection or an error reply. */
function failWith(req: IncomingMessage, fault: HttpFault): never {
  if (fault.drop) {
    req.socket.destroy();
    throw new SimError(0, "connection dropped");
  }
  throw new SimError(fault.status ?? 500, fault.message ?? "simulated fault");
}

function toSimError(e: unknown): SimError {
  if (e instanceof SimError) return e;
  return new SimError(500, e instanceof Error ? e.message : String(e));
}

/** PVE >= 8.3 error replies: reason phrase + JSON with `message` (and `errors`); header-auth 401s have no body. */
function reply(res: ServerResponse, e: SimError, withBody: boolean): void {
  if (e.status === 0 || res.headersSent || res.destroyed || res.socket?.destroyed) return;
  if (e.status === 401 && !withBody && e.message !== "authentication failure")
    return sendEmpty(res, 401, reason(e.message), SERVER);
  const body: Record<string, unknown> = { data: null, message: `${e.message.replace(/\n+$/, "")}\n` };
  if (e.errors) body.errors = e.errors;
  sendJson(res, e.status, reason(e.message), body, SERVER);
}
