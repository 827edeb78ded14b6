// PVE authentication: tickets (PVEAuthCookie + CSRFPreventionToken) and API
// tokens (Authorization: PVEAPIToken=user@realm!id=secret). Tickets are signed
// with an HMAC instead of PVE's RSA key; their shape and lifetime are PVE's.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { SimError } from "./errors.ts";
import type { SimState } from "./state.ts";

export interface AuthId {
  readonly userid: string;
  readonly tokenid?: string;
  /** user@realm or user@realm!tokenid, as recorded in UPIDs. */
  readonly authid: string;
  /** Authenticated with a ticket (CSRF applies) rather than a token. */
  readonly ticket: boolean;
}

const TICKET_LIFETIME_S = 2 * 3600;
const hex8 = (n: number): string => n.toString(16).toUpperCase().padStart(8, "0");
const sign = (key: string, text: string): string => createHmac("sha256", key).update(text).digest("base64");
const same = (a: string, b: string): boolean =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export function makeTicket(state: SimState, userid: string, now = Date.now()): { ticket: string; csrf: string } {
  const ts = hex8(Math.floor(now / 1000));
  const plain = `PVE:${userid}:${ts}`;
  return {
    ticket: `${plain}::${sign(state.authKey, plain)}`,
    csrf: `${ts}:${sign(state.authKey, `csrf:${userid}:${ts}`).replace(/=+$/, "")}`,
  };
}

/** The user a valid, unexpired ticket belongs to, else undefined. */
export function verifyTicket(state: SimState, ticket: string, now = Date.now()): string | undefined {
  const m = /^PVE:([^:]+):([0-9A-F]{8})::(.+)$/.exec(ticket);
  if (!m || !same(sign(state.authKey, `PVE:${m[1]}:${m[2]}`), m[3]!)) return undefined;
  const age = now / 1000 - parseInt(m[2]!, 16);
  return age >= -300 && age < TICKET_LIFETIME_S ? m[1] : undefined;
}

function verifyCsrf(state: SimState, userid: string, token: string | undefined): boolean {
  const ts = token?.split(":")[0] ?? "";
  return !!token && same(makeTicket(state, userid, parseInt(ts, 16) * 1000).csrf, token);
}

function cookieTicket(headers: IncomingHttpHeaders): string | undefined {
  const fromAuth = /^PVEAuthCookie=(.+)$/.exec(headers.authorization ?? "")?.[1];
  const fromCookie = /(?:^|;\s*)PVEAuthCookie=([^;]+)/.exec(headers.cookie ?? "")?.[1];
  const raw = fromAuth ?? fromCookie;
  return raw === undefined ? undefined : decodeURIComponent(raw);
}

/** `PVEAPIToken=user@realm!id=secret` (or a space after the scheme), up to `;`, split at the last `=`. */
export function parseTokenHeader(header: string): { tokenid: string; secret: string } | undefined {
  const m = /^PVEAPIToken[= ](.*)$/.exec(header);
  if (!m) return undefined;
  const value = decodeURIComponent(m[1]!.split(";")[0]!);
  const eq = value.lastIndexOf("=");
  return eq > 0 ? { tokenid: value.slice(0, eq), secret: value.slice(eq + 1) } : undefined;
}

/** Authenticate a request, as pveproxy does before routing. Throws the real 401s. */
export function authenticate(state: SimState, method: string, headers: IncomingHttpHeaders): AuthId {
  const token = parseTokenHeader(headers.authorization ?? "");
  if (token) {
    const t = state.tokens[token.tokenid];
    const userid = token.tokenid.split("!")[0]!;
    const expired = t?.expire && t.expire < Date.now() / 1000;
    if (!t || expired || !same(t.secret, token.secret) || !state.users[userid]?.enable) {
      throw new SimError(401, "Authentication failed!");
    }
    return { userid, tokenid: token.tokenid.split("!")[1], authid: token.tokenid, ticket: false };
  }
  const ticket = cookieTicket(headers);
  if (ticket === undefined) throw new SimError(401, "No ticket");
  const userid = verifyTicket(state, ticket);
  if (!userid || !state.users[userid]?.enable) throw new SimError(401, "Authentication failed!");
  const csrf = headers.csrfpreventiontoken;
  if (method !== "GET" && !verifyCsrf(state, userid, Array.isArray(csrf) ? csrf[0] : csrf)) {
    throw new SimError(401, "Permission denied - invalid csrf token");
  }
  return { userid, authid: userid, ticket: true };
}
