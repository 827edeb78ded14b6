// lab's PBS resources (datastores, prune/verify/sync jobs, GC schedule) and the sync run `lab backup
// --run` makes, through lab's own client with the README's least-privilege PBS token, created on the
// simulator exactly as documented: they converge (a second pass changes nothing); with one README line
// left out the right call fails with a lab error naming the privilege and the path, and what to grant.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HostCtx, Resource } from "../../../src/engine/types.ts";
import { ProxmoxClient } from "../../../src/proxmox/client.ts";
import { type PbsApi, pbsApi } from "../../../src/proxmox/resources/api.ts";
import {
  pbsDatastore,
  pbsGcSchedule,
  pbsPruneJob,
  pbsSyncJob,
  pbsVerifyJob,
} from "../../../src/proxmox/resources/pbs-jobs.ts";
import { pbsAccess } from "../../../src/sim/pbs-acl.ts";
import { type TestSim, startTestSim } from "../sim/helpers.ts";
import { type PbsCommand, applyReadmePbs } from "../sim/least-privilege.ts";

let t: TestSim;
const ctx = {} as HostCtx;
const retention = { daily: 7 };

const connect = (tokenId: string, secret: string): Promise<ProxmoxClient> =>
  ProxmoxClient.connect({
    url: t.sim.pbsUrl!,
    product: "pbs",
    auth: { tokenId, tokenSecret: secret },
    tls: { caFile: t.sim.caFile },
  });

/** Sets the README's PBS user, tokens and ACLs up afresh (without the lines `skip` picks); lab's token's API. */
async function readmeToken(skip?: (c: PbsCommand) => boolean): Promise<PbsApi & { close(): void }> {
  const admin = await connect(t.sim.tokenId, t.sim.tokenSecret);
  try {
    const access = pbsAccess(t.sim.state);
    access.acl = access.acl.filter((e) => !e.ugid.startsWith("lab@pbs"));
    for (const id of Object.keys(access.tokens)) if (id.startsWith("lab@pbs!")) delete access.tokens[id];
    const secrets = await applyReadmePbs(async (method, path, params) => {
      if (method === "POST" && path === "/access/users" && access.users[String(params?.userid)]) return null;
      return method === "PUT" ? admin.put(path, params) : admin.post(path, params);
    }, skip);
    return pbsApi(await connect("lab@pbs!lab", secrets["lab@pbs!lab"]!), "pbs1");
  } finally {
    admin.close();
  }
}

const resources = (pbs: PbsApi): Resource[] => {
  const api = () => Promise.resolve(pbs);
  return [
    pbsDatastore(api, { store: "lab", path: "/mnt/datastore/lab" }),
    pbsDatastore(api, { store: "offsite", path: "/mnt/datastore/offsite" }),
    pbsPruneJob(api, { id: "lab-t", store: "lab", schedule: "daily", retention }),
    pbsVerifyJob(api, { id: "lab-t", store: "lab", schedule: "weekly" }),
    pbsSyncJob(api, { id: "lab-t-offsite", store: "offsite", remoteStore: "lab", schedule: "daily" }),
    pbsPruneJob(api, { id: "lab-t-offsite", store: "offsite", schedule: "daily", retention }),
    pbsGcSchedule(api, { store: "lab", schedule: "daily" }),
    pbsGcSchedule(api, { store: "offsite", schedule: "daily" }),
  ] as Resource[];
};

/** read -> diff -> apply, as the engine does; returns how many resources changed. */
async function converge(list: Resource[]): Promise<number> {
  let changed = 0;
  for (const r of list) {
    const have = await r.read(ctx);
    const changes = r.diff(r.want, have);
    if (changes.length) {
      await r.apply(ctx, changes, have);
      changed++;
    }
  }
  return changed;
}

beforeAll(async () => {
  t = await startTestSim({ taskDelayMs: 5 });
});
afterAll(async () => {
  await t.close();
});

describe("the README's least-privilege PBS token with lab's PBS resources", () => {
  it("creates the datastores and jobs, runs the sync, and a second pass changes nothing", async () => {
    const pbs = await readmeToken();
    try {
      expect(await converge(resources(pbs))).toBe(8);
      expect(await converge(resources(pbs))).toBe(0);
      // `lab backup --run`'s offsite copy: run the sync job and follow its task (its own).
      await pbs.wait(await pbs.post("/admin/sync/{id}/run", { id: "lab-t-offsite" }), "sync job");
      expect(await pbs.get("/admin/prune", { store: "lab" })).toHaveLength(1);
    } finally {
      pbs.close();
    }
  });

  it("without DatastoreAdmin on the offsite datastore: the prune job fails naming privilege and path", async () => {
    const pbs = await readmeToken(
      (c) => c.kind === "acl" && c.authId === "lab@pbs!lab" && c.path === "/datastore/offsite",
    );
    try {
      t.sim.state.pbs.jobs.prune = {};
      const job = pbsPruneJob(() => Promise.resolve(pbs), {
        id: "lab-t-offsite",
        store: "offsite",
        schedule: "daily",
        retention,
      });
      const have = await job.read(ctx);
      const err = await job.apply(ctx, job.diff(job.want, have), have).then(
        () => undefined,
        (e: unknown) => e as Error & { hint?: string },
      );
      expect(err?.message).toMatch(
        /^POST \S+\/config\/prune: 400 missing permissions 'Datastore.Modify' on '\/datastore\/offsite'$/,
      );
      expect(err?.hint).toMatch(/grant a role that has it on that path to the token and to its user/);
      // The sync job into it is refused too: PBS says only "permission check failed", lab adds what it needs.
      const run = await pbs
        .post("/admin/sync/{id}/run", { id: "lab-t-offsite" })
        .catch((e: unknown) => e as Error & { hint?: string });
      expect((run as Error).message).toMatch(/400 permission check failed$/);
      expect((run as { hint?: string }).hint).toMatch(/User needs Datastore.Backup on target datastore/);
    } finally {
      pbs.close();
    }
  });

  it("without Admin on /datastore: creating a datastore is the router's 403, lab names Datastore.Allocate", async () => {
    const pbs = await readmeToken((c) => c.kind === "acl" && c.authId === "lab@pbs!lab" && c.path === "/datastore");
    try {
      const ds = pbsDatastore(() => Promise.resolve(pbs), { store: "third", path: "/mnt/datastore/third" });
      const have = await ds.read(ctx).catch((e: unknown) => e as Error);
      expect((have as Error).message).toMatch(/^GET \S+\/config\/datastore\/third: 403 permission check failed$/);
      const err = await ds
        .apply(ctx, [{ key: "create", summary: "" }], undefined)
        .catch((e: unknown) => e as Error & { hint?: string });
      expect((err as Error).message).toMatch(/^POST \S+\/config\/datastore: 403 permission check failed$/);
      expect((err as { hint?: string }).hint).toMatch(/\(PBS: Datastore.Allocate on \/datastore\)/);
    } finally {
      pbs.close();
    }
  });
});
