// The Proxmox Backup Server endpoints a backup feature needs: version,
// datastores and their status, backup groups and snapshots (filled by PVE's
// vzdump to a `pbs` storage), the certificate fingerprint, and (pbs-admin.ts)
// datastore config, prune/verify/sync jobs, GC and tasks. PBS differs from
// PVE on the wire: PBSAPIToken with a colon before the secret, and errors as
// plain text (still labelled application/json).
import type { IncomingMessage, ServerResponse } from "node:http";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type ApiSchema, pbsSchema } from "../proxmox/schema.ts";
import { makeTicket, verifyTicket } from "./auth.ts";
import type { SimContext } from "./context.ts";
import { SimError } from "./errors.ts";
import { Envelope, JSON_TYPE, readParams, reason, sendJson } from "./http.ts";
import type { AuthId } from "./auth.ts";
import { pbsAdminRoutes } from "./pbs-admin.ts";
import { pbsAccessRoutes, pbsFilterReply, pbsHandlerCheck } from "./pbs-access.ts";
import { forbidden, pbsAccess, schemaAllows } from "./pbs-acl.ts";
import { replyViolations } from "../proxmox/known-drift.ts";
import { datastoreSnapshots, publicSnapshot } from "./pbs-store.ts";
import type { PbsSnapshot } from "./state.ts";

const SERVER = "proxmox-backup-server";
type Params = Record<string, unknown>;
export type PbsHandler = (sim: SimContext, p: Params, auth: AuthId) => unknown;

const TiB = 1024 ** 4;
const store = (sim: SimContext, p: Params): PbsSnapshot[] => datastoreSnapshots(sim.state, String(p.store));

const routes: Record<string, PbsHandler> = {
  "GET /version": () => ({ version: "4.0.14", release: "4.0", repoid: "8c2f5a4a" }),
  "POST /access/ticket": (sim, p) => {
    const user = pbsAccess(sim.state).users[String(p.username)];
    if (!user?.enable || user.password !== p.password) throw new SimError(401, "authentication failure");
    const { ticket, csrf } = makeTicket(sim.state, String(p.username));
    return { username: p.username, ticket: ticket.replace(/^PVE:/, "PBS:"), CSRFPreventionToken: csrf };
  },
  "GET /admin/datastore": (sim) =>
    Object.entries(sim.state.pbs.datastores).map(([name, d]) => ({
      store: name,
      "mount-status": "nonremovable",
      "backend-type": "filesystem",
      ...(d.comment ? { comment: d.comment } : {}),
    })),
  "GET /admin/datastore/{store}/status": (sim, p) => {
    const used = store(sim, p).reduce((n, s) => n + s.size, 0);
    return { total: TiB, used, avail: TiB - used, "backend-type": "filesystem" };
  },
  "GET /admin/datastore/{store}/snapshots": (sim, p) =>
    store(sim, p)
      .filter(
        (s) =>
          (!p["backup-type"] || s["backup-type"] === p["backup-type"]) &&
          (!p["backup-id"] || s["backup-id"] === p["backup-id"]),
      )
      .map(publicSnapshot),
  "GET /admin/datastore/{store}/groups": (sim, p) => {
    const groups = new Map<string, PbsSnapshot[]>();
    for (const s of store(sim, p))
      groups.set(`${s["backup-type"]}/${s["backup-id"]}`, [
        ...(groups.get(`${s["backup-type"]}/${s["backup-id"]}`) ?? []),
        s,
      ]);
    return [...groups.values()].map((list) => {
      const last = list.reduce((a, b) => (a["backup-time"] > b["backup-time"] ? a : b));
      return {
        "backup-type": last["backup-type"],
        "backup-id": last["backup-id"],
        "last-backup": last["backup-time"],
        "backup-count": list.length,
        files: last.files,
        owner: last.owner,
      };
    });
  },
  "GET /nodes/{node}/certificates/info": (sim) => {
    const pem = readFileSync(join(sim.stateDir, "sim-cert.pem"), "utf8");
    const x = new X509Certificate(pem);
    return [
      {
        filename: "proxy.pem",
        fingerprint: sim.fingerprint,
        issuer: x.issuer,
        subject: x.subject,
        san: (x.subjectAltName ?? "").split(", "),
        "public-key-type": "id-ecPublicKey",
        notbefore: Math.floor(Date.parse(x.validFrom) / 1000),
        notafter: Math.floor(Date.parse(x.validTo) / 1000),
        pem,
      },
    ];
  },
  ...pbsAdminRoutes,
  ...pbsAccessRoutes,
};

/** PBSAPIToken=user@realm!name:secret (or a space), or a PBSAuthCookie ticket. */
function authenticate(sim: SimContext, req: IncomingMessage): AuthId {
  const token = /^PBSAPIToken[= ]([^:]+):(.+)$/.exec(req.headers.authorization ?? "");
  if (token) {
    const access = pbsAccess(sim.state);
    const t = access.tokens[token[1]!];
    const [userid, tokenid] = token[1]!.split("!");
    const expired = t?.expire && t.expire < Date.now() / 1000;
    if (!t || t.secret !== token[2] || !t.enable || expired || !access.users[userid!]?.enable)
      throw new SimError(401, "authentication failed - invalid token");
    return { userid: userid!, tokenid: tokenid!, authid: token[1]!, ticket: false };
  }
  const cookie = /(?:^|;\s*)(?:__Host-)?PBSAuthCookie=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];
  const userid = cookie && verifyTicket(sim.state, decodeURIComponent(cookie).replace(/^PBS:/, "PVE:"));
  if (!userid || !pbsAccess(sim.state).users[userid]?.enable)
    throw new SimError(401, "authentication failed - no valid ticket");
  return { userid, authid: userid, ticket: true };
}

export function pbsRequestHandler(
  sim: SimContext,
  log: (line: string) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(sim, req, res)
      .catch((e: unknown) => {
        const err = e instanceof SimError ? e : new SimError(500, e instanceof Error ? e.message : String(e));
        res.writeHead(err.status, reason(err.message), { "Content-Type": JSON_TYPE, Server: SERVER });
        res.end(err.message);
      })
      .finally(() => log(`PBS ${req.method} ${req.url?.split("?")[0]} -> ${res.statusCode}`));
  };
}

/** Values as PBS's handlers see them after deserializing: integers and booleans typed (forms send text). */
function typedParams(schema: ApiSchema, method: string, template: string, params: Params): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(params)) {
    const type = schema.param(template, method, k)?.type;
    const text = typeof v === "string" ? v : undefined;
    if (type === "integer" && text !== undefined) out[k] = Number(text);
    else if (type === "boolean" && text !== undefined) out[k] = /^(1|true|yes|on)$/i.test(text);
    else out[k] = v;
  }
  return out;
}

async function handle(sim: SimContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "https://sim");
  const method = (req.method ?? "GET").toUpperCase();
  const path = /^\/api2\/json(\/.*)$/.exec(url.pathname)?.[1];
  if (!path) throw new SimError(404, "Path not found.");
  const schema = pbsSchema();
  const match = schema.match(path);
  const info = match && schema.method(match.template, method);
  const world = (info?.permissions as { user?: string } | undefined)?.user === "world";
  const auth: AuthId = world ? { userid: "root@pam", authid: "root@pam", ticket: false } : authenticate(sim, req);
  const params = await readParams(req, url);
  // proxmox-router collects form values into arrays: one `delete=x` is a one-element array.
  for (const [k, v] of Object.entries(params)) {
    if (match && !Array.isArray(v) && schema.param(match.template, method, k)?.type === "array") params[k] = [v];
  }
  const check = schema.checkRequest(method, path, params);
  const handler = check.template && routes[`${method} ${check.template}`];
  if (!handler) throw new SimError(404, `Path '${path}' not found.`);
  if (check.status === 400)
    throw new SimError(
      400,
      `parameter verification errors\n\n${check.violations.map((v) => `parameter '${v.path}': ${v.message}`).join("\n")}`,
    );
  const typed = typedParams(schema, method, check.template, { ...params, ...check.pathParams });
  // The router's access.permission first (403), then what the handler itself checks (pbs-access.ts).
  if (!schemaAllows(sim.state, auth, info?.permissions as Parameters<typeof schemaAllows>[2], typed)) throw forbidden();
  const key = `${method} ${check.template}`;
  pbsHandlerCheck(sim, key, typed, auth);
  const result = await handler(sim, typed, auth);
  sim.save();
  const raw = result instanceof Envelope ? result : new Envelope(result ?? null, {});
  const envelope = new Envelope(pbsFilterReply(sim, key, raw.data, typed, auth), raw.extra);
  // Where the schema says null but PBS's code returns something (a worker's UPID, the task log), that is what a client gets.
  const bad = replyViolations(schema, "pbs", method, check.template, envelope.data);
  if (bad.length)
    throw new SimError(
      500,
      `simulator reply violates the PBS schema: ${bad.map((v) => `${v.path}: ${v.message}`).join("; ")}`,
    );
  sendJson(res, 200, "OK", { data: envelope.data, ...envelope.extra }, SERVER);
}
