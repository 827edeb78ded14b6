// Jobs on a Proxmox Backup Server, through its API: prune (the retention of the
// policy, computed exactly as `lab backup prune-preview` shows), verify
// (ignore-verified, outdated-after), the datastore's garbage-collection
// schedule, and a sync job copying the datastore to a second one (the offsite
// copy). Each is a config object diffed key by key, so `lab plan` shows e.g.
// `keep-daily 7 -> 14` for one job and nothing for the others.
import { defined, valueChange } from "../../resources/attrs-diff.ts";
import type { Change, HostCtx, Resource } from "../../engine/types.ts";
import { ExitCode, LabError } from "../../errors.ts";
import { Type, type Static } from "@sinclair/typebox";
import { closed } from "../../resources/options.ts";
import { Retention } from "./backup-job.ts";
import { isMissing, type PbsApi, type PbsParamsFor } from "./api.ts";
import { checkWant } from "./check.ts";

type Conf = Record<string, unknown>;
type Api = (ctx: HostCtx) => Promise<PbsApi>;

/** Values as PBS returns them (numbers, 0/1 booleans) compared as text. */
const text = (v: unknown): string =>
  v === true ? "1" : v === false ? "0" : typeof v === "string" || typeof v === "number" ? String(v) : "";

/** The wanted keys that differ from `have`; a key wanted `undefined` must be absent (PBS `delete`). */
export function confDiff(label: string, want: Conf, have: Conf | undefined): Change[] {
  if (!have)
    return [
      valueChange(
        "create",
        `create ${label}: ${Object.entries(want)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${text(v)}`)
          .join(", ")}`,
        null,
        defined(want),
      ),
    ];
  const out: Change[] = [];
  for (const [k, w] of Object.entries(want)) {
    const h = text(have[k]);
    if (w === undefined ? h !== "" : h !== text(w))
      out.push(valueChange(k, `${k} ${h || "(none)"} -> ${w === undefined ? "(none)" : text(w)}`, have[k], w));
  }
  return out;
}

const keep = (r: Retention) => ({
  "keep-last": r.last,
  "keep-hourly": r.hourly,
  "keep-daily": r.daily,
  "keep-weekly": r.weekly,
  "keep-monthly": r.monthly,
  "keep-yearly": r.yearly,
});
type KeepKey = keyof ReturnType<typeof keep>;
const removed = <K extends string>(want: Conf, changes: readonly Change[]) =>
  changes.filter((c) => c.key in want && want[c.key] === undefined).map((c) => c.key as K);

async function readOr<T>(get: () => Promise<T>): Promise<T | undefined> {
  try {
    return await get();
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

const Id = Type.String({ minLength: 1 });
/** PBS calendar event, e.g. "daily", "sat 05:00". */
const Schedule = Type.String({ minLength: 1 });

export const PruneJobWant = Type.Object(
  { id: Id, store: Id, schedule: Schedule, retention: Retention, ns: Type.Optional(Type.String()) },
  closed,
);
export type PruneJobWant = Static<typeof PruneJobWant>;

export function pbsPruneJob(pbs: Api, want: PruneJobWant): Resource<PruneJobWant, Conf | undefined> {
  checkWant("pbsPruneJob", PruneJobWant, want);
  const conf = { store: want.store, schedule: want.schedule, ns: want.ns, ...keep(want.retention) };
  return {
    id: `pbs:prune/${want.id}`,
    want,
    read: async (ctx) => readOr(async () => (await pbs(ctx)).get("/config/prune/{id}", { id: want.id })),
    diff: (_w, have) => confDiff(`prune job ${want.id} on ${want.store}`, conf, have),
    async apply(ctx, changes, have) {
      const api = await pbs(ctx);
      const params = { id: want.id, ...conf } satisfies PbsParamsFor<"POST", "/config/prune">;
      if (!have) await api.post("/config/prune", params);
      else {
        const del = removed<KeepKey | "ns">(conf, changes);
        await api.put("/config/prune/{id}", { ...params, ...(del.length ? { delete: del } : {}) });
      }
    },
    ok: () =>
      `prune job ${want.id} keeps ${Object.entries(keep(want.retention))
        .filter(([, v]) => v)
        .map(([k, v]) => `${k}=${v}`)
        .join(",")} at "${want.schedule}"`,
  };
}

export const VerifyJobWant = Type.Object(
  { id: Id, store: Id, schedule: Schedule, outdatedAfter: Type.Optional(Type.Integer({ minimum: 1 })) },
  closed,
);
export type VerifyJobWant = Static<typeof VerifyJobWant>;

export function pbsVerifyJob(pbs: Api, want: VerifyJobWant): Resource<VerifyJobWant, Conf | undefined> {
  checkWant("pbsVerifyJob", VerifyJobWant, want);
  // ignore-verified: a snapshot verified once is not read again until outdated-after days passed.
  const conf = {
    store: want.store,
    schedule: want.schedule,
    "ignore-verified": true,
    "outdated-after": want.outdatedAfter,
  };
  return {
    id: `pbs:verify/${want.id}`,
    want,
    read: async (ctx) => readOr(async () => (await pbs(ctx)).get("/config/verify/{id}", { id: want.id })),
    diff: (_w, have) => confDiff(`verify job ${want.id} on ${want.store}`, conf, have),
    async apply(ctx, changes, have) {
      const api = await pbs(ctx);
      const params = { id: want.id, ...conf } satisfies PbsParamsFor<"POST", "/config/verify">;
      if (!have) await api.post("/config/verify", params);
      else {
        const del = removed<"outdated-after">(conf, changes);
        await api.put("/config/verify/{id}", { ...params, ...(del.length ? { delete: del } : {}) });
      }
    },
    ok: () => `verify job ${want.id} checks ${want.store} at "${want.schedule}"`,
  };
}

export const SyncJobWant = Type.Object(
  {
    id: Id,
    /** The datastore the copy goes to (the offsite copy). */
    store: Id,
    /** The datastore copied from. */
    remoteStore: Id,
    /** A PBS remote (another server); absent: a datastore of the same server. */
    remote: Type.Optional(Type.String()),
    schedule: Schedule,
    removeVanished: Type.Optional(Type.Boolean()),
  },
  closed,
);
export type SyncJobWant = Static<typeof SyncJobWant>;

export function pbsSyncJob(pbs: Api, want: SyncJobWant): Resource<SyncJobWant, Conf | undefined> {
  checkWant("pbsSyncJob", SyncJobWant, want);
  const conf = {
    store: want.store,
    "remote-store": want.remoteStore,
    remote: want.remote,
    schedule: want.schedule,
    "remove-vanished": want.removeVanished ?? false,
  };
  return {
    id: `pbs:sync/${want.id}`,
    want,
    read: async (ctx) => readOr(async () => (await pbs(ctx)).get("/config/sync/{id}", { id: want.id })),
    diff: (_w, have) => confDiff(`sync job ${want.id} ${want.remoteStore} -> ${want.store}`, conf, have),
    async apply(ctx, changes, have) {
      const api = await pbs(ctx);
      const params = { id: want.id, ...conf } satisfies PbsParamsFor<"POST", "/config/sync">;
      if (!have) await api.post("/config/sync", params);
      else {
        const del = removed<"remote">(conf, changes);
        await api.put("/config/sync/{id}", { ...params, ...(del.length ? { delete: del } : {}) });
      }
    },
    ok: () => `sync job ${want.id} copies ${want.remoteStore} to ${want.store} at "${want.schedule}"`,
  };
}

export const DatastoreWant = Type.Object({ store: Id, path: Type.String({ pattern: "^/" }) }, closed);
export type DatastoreWant = Static<typeof DatastoreWant>;

/**
 * A datastore the inventory declares (pbs.NAME.datastores): created at its path when missing (a PBS worker
 * task). Never removed or moved: a datastore at another path is a failure naming both paths.
 */
export function pbsDatastore(pbs: Api, want: DatastoreWant): Resource<DatastoreWant, Conf | undefined> {
  checkWant("pbsDatastore", DatastoreWant, want);
  return {
    id: `pbs:datastore/${want.store}`,
    want,
    read: async (ctx) => readOr(async () => (await pbs(ctx)).get("/config/datastore/{name}", { name: want.store })),
    diff: (_w, have) => {
      if (have && text(have.path) !== want.path) {
        throw new LabError(
          `PBS datastore ${want.store} is at ${text(have.path)}, the inventory says ${want.path}`,
          ExitCode.failed,
          {},
          "lab never moves a datastore: fix the path in the inventory, or move it on the PBS yourself",
        );
      }
      return have
        ? []
        : [
            valueChange("create", `create datastore ${want.store} at ${want.path}`, null, {
              store: want.store,
              path: want.path,
            }),
          ];
    },
    async apply(ctx) {
      const api = await pbs(ctx);
      await api.wait(
        await api.post("/config/datastore", { name: want.store, path: want.path }),
        `create datastore ${want.store}`,
      );
    },
    ok: () => `datastore ${want.store} exists at ${want.path}`,
  };
}

export const GcScheduleWant = Type.Object({ store: Id, schedule: Schedule }, closed);
export type GcScheduleWant = Static<typeof GcScheduleWant>;

export function pbsGcSchedule(pbs: Api, want: GcScheduleWant): Resource<GcScheduleWant, Conf | undefined> {
  checkWant("pbsGcSchedule", GcScheduleWant, want);
  return {
    id: `pbs:gc/${want.store}`,
    want,
    read: async (ctx) => (await pbs(ctx)).get("/config/datastore/{name}", { name: want.store }),
    diff: (_w, have) => confDiff(`datastore ${want.store}`, { "gc-schedule": want.schedule }, have ?? {}),
    async apply(ctx) {
      await (await pbs(ctx)).put("/config/datastore/{name}", { name: want.store, "gc-schedule": want.schedule });
    },
    ok: () => `datastore ${want.store} collects garbage at "${want.schedule}"`,
  };
}
