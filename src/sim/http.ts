// Wire helpers shared by the PVE and PBS listeners: body parsing as pveproxy
// does it (form or JSON, query merged on top) and replies with the exact
// headers real servers send.
import type { IncomingMessage, ServerResponse } from "node:http";
import { SimError } from "./errors.ts";

const MAX_BODY = 4 * 1024 * 1024;
export const JSON_TYPE = "application/json;charset=UTF-8";

export async function readParams(req: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new SimError(413, "Request Entity Too Large");
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks).toString("utf8");
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim();
  let params: Record<string, unknown> = {};
  if (body && type === "application/json") {
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) params = parsed as Record<string, unknown>;
    } catch {
      throw new SimError(400, "malformed JSON string");
    }
  } else if (body) {
    params = formParams(new URLSearchParams(body));
  }
  return { ...params, ...formParams(url.searchParams) };
}

/** Repeated keys become arrays (`delete[]`-style lists); single keys stay strings. */
function formParams(sp: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of new Set(sp.keys())) {
    const all = sp.getAll(key);
    out[key.replace(/\[\]$/, "")] = all.length > 1 || key.endsWith("[]") ? all : all[0];
  }
  return out;
}

/** The reason phrase: first line of the message, as PVE puts it in the status line. */
export const reason = (message: string): string =>
  (message.split("\n")[0] ?? "").replace(/[^\x20-\x7e]/g, "?").slice(0, 512) || "Internal Server Error";

export function sendJson(res: ServerResponse, status: number, statusText: string, body: unknown, server: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, statusText, {
    "Content-Type": JSON_TYPE,
    "Content-Length": Buffer.byteLength(text),
    Server: server,
    "Cache-Control": "max-age=0",
    Pragma: "no-cache",
  });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number, statusText: string, server: string): void {
  res.writeHead(status, statusText, { "Content-Length": 0, Server: server });
  res.end();
}

/** A handler result with extra envelope keys next to `data` (task log `total`, network `changes`). */
export class Envelope {
  constructor(
    readonly data: unknown,
    readonly extra: Record<string, unknown>,
  ) {}
}
