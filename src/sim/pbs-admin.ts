// PBS configuration and admin endpoints for backups: datastore.cfg (incl. the
// GC schedule), prune/verify/sync job configs (/config/{prune,verify,sync}),
// their status and "run now" (/admin/...), ad-hoc prune of a group, verify,
// GC, snapshot removal, and the task status/log a client follows a UPID with.
// Error texts and status codes follow proxmox-backup src/api2/{config,admin}.
import { createHash } from "node:crypto";
import type { AuthId } from "./auth.ts";
import type { SimContext } from "./context.ts";
import { SimError } from "./errors.ts";
import { Envelope } from "./http.ts";
import { keepOptions, pruneGroup, runGc, runPrune, runSync, runVerify } from "./pbs-jobs.ts";
import { datastoreSnapshots, removeSnapshot } from "./pbs-store.ts";
import type { Item } from "./state.ts";
import type { Worker } from "./tasks.ts";

type Params = Record<string, unknown>;
type Handler = (sim: SimContext, p: Params, auth: AuthId) => unknown;
type JobKind = "prune" | "verify" | "sync";

const CONTROL = new Set(["id", "delete", "digest", "name"]);
const digest = (cfg: unknown): string => createHash("sha256").update(JSON.stringify(cfg)).digest("hex");
const notFound = (msg: string): SimError => new SimError(404, msg);
/** PBS worker ids are systemd-escaped: ':' becomes \x3a (proxmox_sys::systemd::escape_unit). */
const escapeWid = (s: string): string =>
  s.replace(/[^A-Za-z0-9_.@/]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`).replace(/\//g, "-");

function values(p: Params): Item {
  const out: Item = {};
  for (const [k, v] of Object.entries(p)) if (!CONTROL.has(k) && v !== undefined) out[k] = v as Item[string];
  return out;
}

function update(cfg: Item, p: Params, fixed: readonly string[] = []): void {
  if (p.digest !== undefined && p.digest !== digest(cfg))
    throw new SimError(400, "detected modified configuration - file changed by other user? Try again.");
  for (const k of (p.delete as string[] | undefined) ?? []) {
    if (fixed.includes(k)) throw new SimError(400, `unable to delete fixed property '${k}'`);
    delete cfg[k];
  }
  Object.assign(cfg, values(p));
}

function jobs(sim: SimContext, kind: JobKind): Record<string, Item> {
  return sim.state.pbs.jobs[kind];
}

function job(sim: SimContext, kind: JobKind, id: string): Item {
  const cfg = jobs(sim, kind)[id];
  if (!cfg) throw notFound(`job '${id}' does not exist.`);
  return cfg;
}

/** The job's config plus the JobState PBS adds in /admin/<kind>: last run and its result. */
function jobStatus(sim: SimContext, key: string, cfg: Item): Record<string, unknown> {
  const upid = sim.state.pbs.lastRun[key];
  const task = upid ? sim.pbsTasks.find(upid) : undefined;
  return {
    ...cfg,
    ...(upid ? { "last-run-upid": upid } : {}),
    ...(task?.status === "stopped" ? { "last-run-state": task.exitstatus, "last-run-endtime": task.endtime } : {}),
  };
}

const WORKER: Record<JobKind, string> = { prune: "prunejob", verify: "verificationjob", sync: "syncjob" };

function startJob(sim: SimContext, kind: JobKind, id: string, auth: AuthId): string {
  const cfg = job(sim, kind, id);
  const store = String(cfg.store);
  datastoreSnapshots(sim.state, store);
  if (kind === "sync") datastoreSnapshots(sim.state, String(cfg["remote-store"]));
  const worker: Worker =
    kind === "prune"
      ? (t) => runPrune(sim, store, cfg, t)
      : kind === "verify"
        ? (t) =>
            runVerify(
              sim,
              store,
              {
                ignoreVerified: cfg["ignore-verified"] !== false,
                outdatedAfter: cfg["outdated-after"] as number | undefined,
              },
              t,
            )
        : (t) => runSync(sim, cfg, t);
  const wid = kind === "sync" ? `local:${String(cfg["remote-store"])}:${store}::${id}` : `${store}:${id}`;
  const upid = sim.pbsTasks.start({ node: "localhost", type: WORKER[kind], id: escapeWid(wid), auth }, worker);
  sim.state.pbs.lastRun[`${kind}/${id}`] = upid;
  return upid;
}

function jobRoutes(kind: JobKind): Record<string, Handler> {
  const requires = kind === "sync" ? ["store", "remote-store"] : ["store"];
  return {
    [`GET /config/${kind}`]: (sim) => Object.entries(jobs(sim, kind)).map(([id, cfg]) => ({ id, ...cfg })),
    [`POST /config/${kind}`]: (sim, p) => {
      const id = String(p.id);
      if (jobs(sim, kind)[id]) throw new SimError(400, `job '${id}' already exists.`);
      if (kind === "sync" && !p.remote && p["remote-store"] === p.store)
        throw new SimError(400, "source and target datastore can't be the same");
      jobs(sim, kind)[id] = values(p);
      return null;
    },
    [`GET /config/${kind}/{id}`]: (sim, p) => ({ id: p.id, ...job(sim, kind, String(p.id)) }),
    [`PUT /config/${kind}/{id}`]: (sim, p) => (update(job(sim, kind, String(p.id)), p, requires), null),
    [`DELETE /config/${kind}/{id}`]: (sim, p) => {
      const cfg = job(sim, kind, String(p.id));
      if (p.digest !== undefined && p.digest !== digest(cfg))
        throw new SimError(400, "detected modified configuration - file changed by other user? Try again.");
      delete jobs(sim, kind)[String(p.id)];
      delete sim.state.pbs.lastRun[`${kind}/${String(p.id)}`];
      return null;
    },
    [`GET /admin/${kind}`]: (sim, p) =>
      Object.entries(jobs(sim, kind))
        .filter(([, cfg]) => !p.store || cfg.store === p.store)
        .filter(
          ([, cfg]) =>
            kind !== "sync" ||
            !p["sync-direction"] ||
            p["sync-direction"] === "all" ||
            (cfg["sync-direction"] ?? "pull") === p["sync-direction"],
        )
        .map(([id, cfg]) => jobStatus(sim, `${kind}/${id}`, { id, ...cfg })),
    [`POST /admin/${kind}/{id}/run`]: (sim, p, auth) => startJob(sim, kind, String(p.id), auth),
  };
}

function datastore(sim: SimContext, name: string): Item & { path: string } {
  const d = sim.state.pbs.datastores[name];
  if (!d) throw notFound(`datastore '${name}' does not exist.`);
  return d;
}

const GC_ZERO = {
  "index-file-count": 0,
  "index-data-bytes": 0,
  "disk-bytes": 0,
  "disk-chunks": 0,
  "removed-bytes": 0,
  "removed-chunks": 0,
  "pending-bytes": 0,
  "pending-chunks": 0,
  "removed-bad": 0,
  "still-bad": 0,
};

function gcStatus(sim: SimContext, store: string): Record<string, unknown> {
  const cfg = datastore(sim, store);
  const upid = sim.state.pbs.lastRun[`gc/${store}`];
  const task = upid ? sim.pbsTasks.find(upid) : undefined;
  return {
    store,
    ...GC_ZERO,
    ...sim.state.pbs.gc[store]?.last,
    ...(cfg["gc-schedule"] ? { schedule: cfg["gc-schedule"] } : {}),
    ...(upid ? { upid } : {}),
    ...(task?.status === "stopped"
      ? {
          "last-run-state": task.exitstatus,
          "last-run-endtime": task.endtime,
          duration: task.endtime! - task.starttime,
        }
      : {}),
  };
}

function taskOf(sim: SimContext, p: Params) {
  const t = sim.pbsTasks.find(String(p.upid));
  if (!t) throw new SimError(400, `task '${String(p.upid)}' does not exist`);
  return t;
}

export const pbsAdminRoutes: Record<string, Handler> = {
  ...jobRoutes("prune"),
  ...jobRoutes("verify"),
  ...jobRoutes("sync"),

  "GET /config/datastore": (sim) => Object.entries(sim.state.pbs.datastores).map(([name, d]) => ({ name, ...d })),
  "POST /config/datastore": (sim, p, auth) => {
    const name = String(p.name);
    if (sim.state.pbs.datastores[name]) throw new SimError(400, `datastore '${name}' already exists.`);
    if (Object.values(sim.state.pbs.datastores).some((d) => d.path === p.path))
      throw new SimError(400, `path '${String(p.path)}' configured multiple times.`);
    return sim.pbsTasks.start({ node: "localhost", type: "create-datastore", id: escapeWid(name), auth }, (t) => {
      t.log(`creating datastore '${name}' on '${String(p.path)}'`);
      sim.state.pbs.datastores[name] = { ...values(p), path: String(p.path) };
      sim.state.pbs.snapshots[name] = [];
    });
  },
  "GET /config/datastore/{name}": (sim, p) => ({ name: p.name, ...datastore(sim, String(p.name)) }),
  "PUT /config/datastore/{name}": (sim, p) => (update(datastore(sim, String(p.name)), p, ["path"]), null),
  "DELETE /config/datastore/{name}": (sim, p, auth) => {
    const name = String(p.name);
    datastore(sim, name);
    return sim.pbsTasks.start({ node: "localhost", type: "delete-datastore", id: escapeWid(name), auth }, () => {
      delete sim.state.pbs.datastores[name];
      if (p["destroy-data"] === true) delete sim.state.pbs.snapshots[name];
      if (p["keep-job-configs"] !== true) {
        for (const kind of ["prune", "verify", "sync"] as const) {
          for (const [id, cfg] of Object.entries(jobs(sim, kind))) if (cfg.store === name) delete jobs(sim, kind)[id];
        }
      }
    });
  },

  "POST /admin/datastore/{store}/prune": (sim, p) => {
    const store = String(p.store);
    const list = datastoreSnapshots(sim.state, store).filter(
      (s) => s["backup-type"] === p["backup-type"] && s["backup-id"] === p["backup-id"],
    );
    return pruneGroup(sim, store, list, keepOptions(p), p["dry-run"] === true);
  },
  "POST /admin/datastore/{store}/verify": (sim, p, auth) => {
    const store = String(p.store);
    datastoreSnapshots(sim.state, store);
    const filter = (s: { "backup-type": string; "backup-id": string; "backup-time": number }): boolean =>
      (!p["backup-type"] || s["backup-type"] === p["backup-type"]) &&
      (!p["backup-id"] || s["backup-id"] === p["backup-id"]) &&
      (!p["backup-time"] || s["backup-time"] === p["backup-time"]);
    return sim.pbsTasks.start({ node: "localhost", type: "verify", id: escapeWid(store), auth }, (t) =>
      runVerify(
        sim,
        store,
        {
          ignoreVerified: p["ignore-verified"] !== false,
          outdatedAfter: p["outdated-after"] as number | undefined,
          filter,
        },
        t,
      ),
    );
  },
  "DELETE /admin/datastore/{store}/snapshots": (sim, p) => {
    const store = String(p.store);
    const s = datastoreSnapshots(sim.state, store).find(
      (x) =>
        x["backup-type"] === p["backup-type"] &&
        x["backup-id"] === p["backup-id"] &&
        x["backup-time"] === p["backup-time"],
    );
    if (!s) throw new SimError(400, "snapshot does not exist");
    if (s.protected) throw new SimError(400, "cannot remove protected snapshot");
    removeSnapshot(sim.state, sim.stateDir, store, s);
    return null;
  },
  "POST /admin/datastore/{store}/gc": (sim, p, auth) => {
    const store = String(p.store);
    datastoreSnapshots(sim.state, store);
    const running = sim.state.pbs.lastRun[`gc/${store}`];
    if (running && sim.pbsTasks.find(running)?.status === "running")
      throw new SimError(400, `garbage collection already running`);
    const upid = sim.pbsTasks.start(
      { node: "localhost", type: "garbage_collection", id: escapeWid(store), auth },
      (t) => runGc(sim, store, t),
    );
    sim.state.pbs.lastRun[`gc/${store}`] = upid;
    return upid;
  },
  "GET /admin/datastore/{store}/gc": (sim, p) => gcStatus(sim, String(p.store)),
  "GET /admin/gc": (sim, p) =>
    Object.keys(sim.state.pbs.datastores)
      .filter((s) => !p.store || s === p.store)
      .map((s) => gcStatus(sim, s)),

  "GET /nodes/{node}/tasks/{upid}/status": (sim, p) => {
    const { log: _l, ...t } = taskOf(sim, p);
    return t;
  },
  "GET /nodes/{node}/tasks/{upid}/log": (sim, p) => {
    const t = taskOf(sim, p);
    const start = Number(p.start ?? 0);
    const limit = Number(p.limit ?? 50);
    const page = t.log
      .slice(start, limit === 0 ? undefined : start + limit)
      .map((text, i) => ({ n: start + i + 1, t: text }));
    return new Envelope(page, { total: t.log.length, active: t.status === "running" });
  },
};
