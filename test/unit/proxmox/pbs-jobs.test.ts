// PBS jobs (prune, verify, sync, GC schedule): create, no-op, key-level updates
// with `delete` for keys no longer wanted; every call checked against the PBS schema.
import { describe, expect, it } from "vitest";
import type { Resource } from "../../../src/engine/types.ts";
import type { PbsPaths } from "../../../src/proxmox/api-types/pbs.ts";
import type { PbsApi } from "../../../src/proxmox/resources/api.ts";
import {
  pbsDatastore,
  pbsGcSchedule,
  pbsPruneJob,
  pbsSyncJob,
  pbsVerifyJob,
} from "../../../src/proxmox/resources/pbs-jobs.ts";
import { pbsSchema } from "../../../src/proxmox/schema.ts";
import { typedApi } from "../../../src/proxmox/typed.ts";
import { hostCtx } from "../helpers/host-ctx.ts";

function fakePbs(replies: Record<string, unknown> = {}) {
  const calls: [string, string, Record<string, unknown>?][] = [];
  const api: PbsApi = {
    ...typedApi<PbsPaths>((method, path, params) => {
      calls.push(
        params && Object.keys(params).length
          ? [method, path, JSON.parse(JSON.stringify(params)) as Record<string, unknown>]
          : [method, path],
      );
      const key = `${method} ${path}`;
      if (method === "GET" && !(key in replies)) return Promise.reject(new Error(`no such job (404)`));
      return Promise.resolve({ data: replies[key] ?? null, extra: {} });
    }),
    endpoint: "pbs1",
    wait: (upid) => (calls.push(["WAIT", String(upid)]), Promise.resolve()),
  };
  return { api, calls, pbs: () => Promise.resolve(api) };
}

const schema = pbsSchema();
async function converge(r: Resource, calls: [string, string, Record<string, unknown>?][]) {
  const have = await r.read(hostCtx());
  const changes = r.diff(r.want, have);
  if (changes.length) await r.apply(hostCtx(), changes, have);
  for (const [method, path, params] of calls.filter((c) => c[0] !== "WAIT"))
    expect(schema.checkRequest(method as "GET", path, params ?? {}).violations, `${method} ${path}`).toEqual([]);
  return changes.map((c) => c.summary);
}

describe("PBS jobs", () => {
  it("prune: created with the policy's retention; a changed retention is one PUT that deletes what is no longer kept", async () => {
    const fresh = fakePbs();
    const want = { id: "lab-vms", store: "lab", schedule: "daily", retention: { daily: 7, weekly: 4, monthly: 3 } };
    expect(await converge(pbsPruneJob(fresh.pbs, want), fresh.calls)).toEqual([
      "create prune job lab-vms on lab: store=lab, schedule=daily, keep-daily=7, keep-weekly=4, keep-monthly=3",
    ]);
    expect(fresh.calls.at(-1)).toEqual([
      "POST",
      "/config/prune",
      { id: "lab-vms", store: "lab", schedule: "daily", "keep-daily": 7, "keep-weekly": 4, "keep-monthly": 3 },
    ]);

    const have = {
      id: "lab-vms",
      store: "lab",
      schedule: "daily",
      "keep-daily": 7,
      "keep-weekly": 4,
      "keep-monthly": 3,
    };
    const same = fakePbs({ "GET /config/prune/lab-vms": have });
    expect(await converge(pbsPruneJob(same.pbs, want), same.calls)).toEqual([]);
    expect(same.calls).toEqual([["GET", "/config/prune/lab-vms"]]);

    const changed = fakePbs({ "GET /config/prune/lab-vms": have });
    expect(
      await converge(pbsPruneJob(changed.pbs, { ...want, retention: { last: 2, daily: 14 } }), changed.calls),
    ).toEqual(["keep-last (none) -> 2", "keep-daily 7 -> 14", "keep-weekly 4 -> (none)", "keep-monthly 3 -> (none)"]);
    expect(changed.calls.at(-1)).toEqual([
      "PUT",
      "/config/prune/lab-vms",
      { store: "lab", schedule: "daily", "keep-last": 2, "keep-daily": 14, delete: ["keep-weekly", "keep-monthly"] },
    ]);
  });

  it("verify: ignore-verified, outdated-after; no-op when as wanted (0/1 booleans from PBS)", async () => {
    const f = fakePbs({
      "GET /config/verify/lab-verify": {
        id: "lab-verify",
        store: "lab",
        schedule: "sat 05:00",
        "ignore-verified": 1,
        "outdated-after": 30,
      },
    });
    expect(
      await converge(
        pbsVerifyJob(f.pbs, { id: "lab-verify", store: "lab", schedule: "sat 05:00", outdatedAfter: 30 }),
        f.calls,
      ),
    ).toEqual([]);
    const g = fakePbs({
      "GET /config/verify/lab-verify": { id: "lab-verify", store: "lab", schedule: "sat 05:00", "ignore-verified": 0 },
    });
    expect(
      await converge(
        pbsVerifyJob(g.pbs, { id: "lab-verify", store: "lab", schedule: "sat 05:00", outdatedAfter: 30 }),
        g.calls,
      ),
    ).toEqual(["ignore-verified 0 -> 1", "outdated-after (none) -> 30"]);
  });

  it("sync: the offsite copy of a datastore; a local sync has no remote", async () => {
    const f = fakePbs();
    expect(
      await converge(
        pbsSyncJob(f.pbs, { id: "lab-offsite", store: "offsite", remoteStore: "lab", schedule: "04:00" }),
        f.calls,
      ),
    ).toEqual([
      "create sync job lab-offsite lab -> offsite: store=offsite, remote-store=lab, schedule=04:00, remove-vanished=0",
    ]);
    expect(f.calls.at(-1)).toEqual([
      "POST",
      "/config/sync",
      { id: "lab-offsite", store: "offsite", "remote-store": "lab", schedule: "04:00", "remove-vanished": false },
    ]);
  });

  it("GC schedule: a key of the datastore's config", async () => {
    const f = fakePbs({ "GET /config/datastore/lab": { name: "lab", path: "/x", "gc-schedule": "daily" } });
    expect(await converge(pbsGcSchedule(f.pbs, { store: "lab", schedule: "sun 06:00" }), f.calls)).toEqual([
      "gc-schedule daily -> sun 06:00",
    ]);
    expect(f.calls.at(-1)).toEqual(["PUT", "/config/datastore/lab", { "gc-schedule": "sun 06:00" }]);
  });

  it("datastore: created at its path and waited for; present is no change; at another path is a failure naming both", async () => {
    const fresh = fakePbs({
      "POST /config/datastore":
        "UPID:localhost:00000001:00000002:00000003:6750A000:create-datastore:offsite:root@pam!lab:",
    });
    expect(
      await converge(pbsDatastore(fresh.pbs, { store: "offsite", path: "/mnt/datastore/offsite" }), fresh.calls),
    ).toEqual(["create datastore offsite at /mnt/datastore/offsite"]);
    expect(fresh.calls.slice(-2)).toEqual([
      ["POST", "/config/datastore", { name: "offsite", path: "/mnt/datastore/offsite" }],
      ["WAIT", "UPID:localhost:00000001:00000002:00000003:6750A000:create-datastore:offsite:root@pam!lab:"],
    ]);
    const there = fakePbs({ "GET /config/datastore/offsite": { name: "offsite", path: "/mnt/datastore/offsite" } });
    expect(
      await converge(pbsDatastore(there.pbs, { store: "offsite", path: "/mnt/datastore/offsite" }), there.calls),
    ).toEqual([]);
    const moved = fakePbs({ "GET /config/datastore/offsite": { name: "offsite", path: "/srv/elsewhere" } });
    await expect(
      converge(pbsDatastore(moved.pbs, { store: "offsite", path: "/mnt/datastore/offsite" }), moved.calls),
    ).rejects.toThrow("PBS datastore offsite is at /srv/elsewhere, the inventory says /mnt/datastore/offsite");
  });
});
