// An HTTPS server that answers with recorded real-server replies (status line,
// content type and body byte for byte), so the client is tested against what
// PVE really sent, not only against our simulator.
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureCert } from "../../../src/sim/cert.ts";

export interface Recording {
  method: string;
  /** Path after /api2/json, not escaped. */
  path: string;
  status: number;
  reason: string;
  contentType: string | null;
  body: string;
}

interface FixtureFile {
  request?: { method: string; path: string };
  response?: { status: number; reason: string; content_type: string | null; body_raw: string };
  responses?: { request: { method: string; path: string }; status: number; body_raw: string }[];
}

const load = (name: string): FixtureFile =>
  JSON.parse(readFileSync(new URL(`../../fixtures/pve/${name}`, import.meta.url), "utf8")) as FixtureFile;
const apiPath = (p: string): string => p.replace(/^\/api2\/json\/*/, "/");

/** One recorded exchange of a fog-proxmox style fixture file. */
export function recording(name: string): Recording {
  const f = load(name);
  return {
    method: f.request!.method,
    path: apiPath(f.request!.path),
    status: f.response!.status,
    reason: f.response!.reason,
    contentType: f.response!.content_type,
    body: f.response!.body_raw,
  };
}

/** The PVE 9.2.10 probe bodies (no status line recorded: PVE puts the message's first line there). */
export function probes(): Recording[] {
  return load("pve9210-live-probe-bodies.json").responses!.map((r) => {
    const message = r.body_raw ? ((JSON.parse(r.body_raw) as { message?: string }).message ?? "") : "";
    return {
      method: r.request.method,
      path: apiPath(r.request.path),
      status: r.status,
      reason: message.split("\n")[0] || (r.status === 200 ? "OK" : "Authentication failed!"),
      contentType: r.body_raw ? "application/json;charset=UTF-8" : null,
      body: r.body_raw,
    };
  });
}

export interface Replay {
  url: string;
  caFile: string;
  fingerprint: string;
  /** Requests received: "METHOD /path". */
  seen: string[];
  close(): Promise<void>;
}

export async function startReplay(recordings: Recording[]): Promise<Replay> {
  const cert = await ensureCert(mkdtempSync(join(tmpdir(), "lab-replay-")), "127.0.0.1");
  const seen: string[] = [];
  const server: Server = createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    const path = apiPath(decodeURIComponent(new URL(req.url ?? "/", "https://x").pathname));
    seen.push(`${req.method} ${path}`);
    const rec = recordings.find((r) => r.method === req.method && r.path === path);
    if (!rec) return void res.writeHead(599, "no recording").end();
    res.writeHead(rec.status, rec.reason, {
      ...(rec.contentType ? { "Content-Type": rec.contentType } : {}),
      Server: "pve-api-daemon/3.0",
    });
    res.end(rec.body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    caFile: cert.certFile,
    fingerprint: cert.fingerprint,
    seen,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
