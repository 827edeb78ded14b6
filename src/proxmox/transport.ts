// One HTTPS exchange with a Proxmox API (PVE or PBS): auth headers (API token
// or ticket + CSRF token, renewed before it expires), parameter encoding as
// PVE expects (form body, 1/0 booleans, repeated keys for lists), the
// {"data": ...} envelope, and PVE's error shapes turned into ProxmoxApiError.
import type { Agent } from "node:https";
import { request } from "node:https";
import { ExitCode, LabError } from "../errors.ts";
import type { PvePaths } from "./api-types/pve.ts";
import { ProxmoxApiError } from "./errors.ts";
import { pbsPermissionHint } from "./pbs-permission-hint.ts";
import { type TlsTrust, tlsFailure } from "./tls.ts";
import type { ParamsOf, PathsFor } from "./typed.ts";

export type Product = "pve" | "pbs";
export type Credentials =
  { readonly tokenId: string; readonly tokenSecret: string } | { readonly username: string; readonly password: string };
export type ParamValue = string | number | boolean | readonly (string | number)[] | null | undefined;
export type Params = Readonly<Record<string, ParamValue>>;

export interface Envelope {
  readonly data: unknown;
  /** Keys next to `data`: `total` of a task log, `changes` of the node network. */
  readonly extra: Readonly<Record<string, unknown>>;
}

/** What the recorder hook sees of every call: values with secrets replaced by REDACTED, so it can be written to a file. */
export interface RecordedCall {
  readonly method: string;
  /** Concrete path after /api2/json. */
  readonly path: string;
  /** Parameter names sent (query or body), sorted. */
  readonly keys: readonly string[];
  /** HTTP status, 0 when no answer arrived. */
  readonly status: number;
  /** Which API (default pve): the conformance check picks the schema by it. */
  readonly product?: Product;
  /** The values as sent (repeated keys as lists); secret parameters are REDACTED. */
  readonly values?: Readonly<Record<string, string | readonly string[]>>;
  /** `data` of a 200 reply, secret fields REDACTED. */
  readonly reply?: unknown;
}

/** Stands in for a secret in recorded calls (the conformance check skips it). */
export const REDACTED = "REDACTED";
/** Parameters and reply fields that carry secrets: passwords, token secrets, tickets, keys. */
const SECRET_KEY = /password|^(value|ticket|CSRFPreventionToken|encryption-key|keyring|secret|otp|tfa-challenge)$/i;

function redact(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redact);
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [
        k,
        SECRET_KEY.test(k) && x !== null && typeof x !== "object" ? REDACTED : redact(x),
      ]),
    );
  return v;
}

function recordedValues(form: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k of new Set(form.keys())) {
    const all = form.getAll(k);
    out[k] = SECRET_KEY.test(k) ? REDACTED : all.length > 1 ? all : all[0]!;
  }
  return out;
}

export interface TransportOptions {
  readonly base: URL;
  readonly agent: Agent;
  readonly credentials: Credentials;
  readonly trust: TlsTrust;
  readonly product: Product;
  readonly timeoutMs: number;
  readonly recorder?: (call: RecordedCall) => void;
  readonly signal?: AbortSignal;
}

interface Ticket {
  readonly ticket: string;
  readonly csrf: string;
  readonly at: number;
}

/** The login call (PBS has the same path and parameters); checked against the schema like every other call. */
const LOGIN = "/access/ticket" satisfies PathsFor<PvePaths, "POST">;

/** Tickets live 2 h; renew well before. */
const RENEW_AFTER_MS = 60 * 60 * 1000;

export class ApiTransport {
  private ticket?: Ticket;
  private readonly cookieName: string;

  constructor(private readonly o: TransportOptions) {
    this.cookieName = o.product === "pbs" ? "PBSAuthCookie" : "PVEAuthCookie";
  }

  get endpoint(): string {
    return this.o.base.origin;
  }

  /** One try (no retry here). */
  async send(method: string, path: string, params: Params = {}): Promise<Envelope> {
    const headers = await this.authHeaders(method);
    const res = await this.exchange(method, path, params, headers);
    if (res.status === 401 && "password" in this.o.credentials && this.ticket) {
      this.ticket = undefined; // expired or revoked: log in again, once
      return this.unwrap(method, path, await this.exchange(method, path, params, await this.authHeaders(method)));
    }
    return this.unwrap(method, path, res);
  }

  private async authHeaders(method: string): Promise<Record<string, string>> {
    const c = this.o.credentials;
    if ("tokenId" in c) {
      const scheme =
        this.o.product === "pbs"
          ? `PBSAPIToken=${c.tokenId}:${c.tokenSecret}`
          : `PVEAPIToken=${c.tokenId}=${c.tokenSecret}`;
      return { Authorization: scheme };
    }
    if (!this.ticket || Date.now() - this.ticket.at > RENEW_AFTER_MS)
      this.ticket = await this.login(c.username, c.password);
    const cookie = { Cookie: `${this.cookieName}=${encodeURIComponent(this.ticket.ticket)}` };
    return method === "GET" ? cookie : { ...cookie, CSRFPreventionToken: this.ticket.csrf };
  }

  private async login(username: string, password: string): Promise<Ticket> {
    // A still valid ticket renews itself when sent as the password.
    const secret = this.ticket && Date.now() - this.ticket.at < 2 * RENEW_AFTER_MS ? this.ticket.ticket : password;
    const res = await this.exchange(
      "POST",
      LOGIN,
      { username, password: secret } satisfies ParamsOf<PvePaths, "POST", typeof LOGIN>,
      {},
    );
    const env = this.unwrap("POST", LOGIN, res);
    const data = env.data as { ticket?: string; CSRFPreventionToken?: string; NeedTFA?: number } | null;
    if (!data?.ticket || !data.CSRFPreventionToken || data.NeedTFA) {
      throw new LabError(
        `login of ${username} at ${this.endpoint} did not return a usable ticket`,
        ExitCode.failed,
        { host: this.endpoint },
        "use an API token for lab (TFA logins are not supported)",
      );
    }
    return { ticket: data.ticket, csrf: data.CSRFPreventionToken, at: Date.now() };
  }

  private exchange(method: string, path: string, params: Params, headers: Record<string, string>): Promise<RawReply> {
    const url = new URL(`/api2/json${path}`, this.o.base);
    const form = encodeParams(params);
    let body: string | undefined;
    if (method === "GET" || method === "DELETE") url.search = form.toString();
    else body = form.toString();
    const keys = [...new Set(form.keys())].sort();
    const record = (status: number, text?: string): void => {
      if (!this.o.recorder) return;
      const json = status === 200 && text !== undefined ? parseJson(text) : undefined;
      const reply = json && typeof json === "object" && "data" in json ? { reply: redact(json.data) } : {};
      this.o.recorder({ method, path, keys, status, product: this.o.product, values: recordedValues(form), ...reply });
    };
    return new Promise<RawReply>((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          agent: this.o.agent,
          signal: this.o.signal,
          headers: {
            Accept: "application/json",
            ...headers,
            ...(body !== undefined
              ? { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": Buffer.byteLength(body) }
              : {}),
          },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => (text += d));
          res.on("error", (err) => reject(this.transportError(method, path, err)));
          res.on("end", () => {
            record(res.statusCode ?? 0, text);
            resolve({
              status: res.statusCode ?? 0,
              statusText: res.statusMessage ?? "",
              contentType: res.headers["content-type"],
              text,
            });
          });
        },
      );
      req.setTimeout(this.o.timeoutMs, () =>
        req.destroy(Object.assign(new Error(`no answer within ${this.o.timeoutMs} ms`), { code: "ETIMEDOUT" })),
      );
      req.on("error", (err) => {
        record(0);
        reject(this.transportError(method, path, err));
      });
      req.end(body);
    });
  }

  private transportError(method: string, path: string, err: NodeJS.ErrnoException): LabError {
    if (this.o.signal?.aborted) return new LabError("interrupted", ExitCode.interrupted);
    return (
      tlsFailure(this.endpoint, err, this.o.trust) ??
      new ProxmoxApiError(
        this.endpoint,
        method,
        path,
        0,
        err.message,
        {},
        err.code,
        "is the Proxmox endpoint reachable?",
        { cause: err },
      )
    );
  }

  private unwrap(method: string, path: string, res: RawReply): Envelope {
    const json = parseJson(res.text);
    if (res.status === 200 && json && typeof json === "object" && "data" in json) {
      const { data, ...extra } = json;
      return { data, extra };
    }
    const body = (json ?? {}) as { message?: unknown; errors?: unknown };
    // PVE >= 8.3 puts the message into the body, older ones only into the status line; PBS sends plain text.
    const reason =
      (typeof body.message === "string" && body.message.trim()) ||
      (json === undefined && res.text.trim()) ||
      res.statusText;
    const errors = body.errors && typeof body.errors === "object" ? (body.errors as Record<string, string>) : {};
    const hint = this.o.product === "pbs" ? pbsPermissionHint(method, path, res.status, reason) : undefined;
    throw new ProxmoxApiError(this.endpoint, method, path, res.status, reason, errors, undefined, hint);
  }
}

interface RawReply {
  readonly status: number;
  readonly statusText: string;
  readonly contentType: string | undefined;
  readonly text: string;
}

function parseJson(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

/** PVE's parameter encoding: booleans as 1/0, lists as repeated keys, null/undefined left out. */
export function encodeParams(params: Params): URLSearchParams {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const item of v as readonly (string | number)[]) form.append(k, String(item));
    else form.set(k, typeof v === "boolean" ? (v ? "1" : "0") : String(v));
  }
  return form;
}
