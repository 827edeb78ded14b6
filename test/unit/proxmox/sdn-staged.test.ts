// An apply interrupted between staging SDN changes and applying them (PUT
// /cluster/sdn failed): the next run must recognise the VNets it staged (a new
// VNet's zone is only under `pending`), apply them instead of creating them again
// ("already defined"), and the run after that changes nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProxmoxClient, type RecordedCall } from "../../../src/proxmox/client.ts";
import { checkCalls } from "../../../src/proxmox/conformance.ts";
import { pveApi, type PveApi } from "../../../src/proxmox/resources/api.ts";
import { sdnVlans, type SdnWant } from "../../../src/proxmox/resources/sdn.ts";
import { hostCtx } from "../helpers/host-ctx.ts";
import { type TestSim, startTestSim } from "../sim/helpers.ts";

let t: TestSim;
const calls: RecordedCall[] = [];
let api: PveApi & { close(): void };
beforeAll(async () => {
  t = await startTestSim({ taskDelayMs: 5 });
  api = pveApi(
    await ProxmoxClient.connect({
      url: t.sim.url,
      auth: { tokenId: t.sim.tokenId, tokenSecret: t.sim.tokenSecret },
      tls: { caFile: t.sim.caFile },
      tasks: { pollMs: 5 },
      recorder: (c) => calls.push(c),
      retry: { attempts: 1 },
    }),
    "pve1",
  );
});
afterAll(async () => {
  api.close();
  await t.close();
});

const want: SdnWant = {
  zone: "lab",
  bridge: "vmbr0",
  vnets: [
    { vnet: "trusted", tag: 10, alias: "Trusted" },
    { vnet: "iot", tag: 20, alias: "IoT", isolatePorts: true },
  ],
};

async function run(): Promise<string[]> {
  const r = sdnVlans(() => Promise.resolve(api), want);
  const ctx = hostCtx();
  const have = await r.read(ctx);
  const changes = r.diff(r.want, have);
  if (changes.length) await r.apply(ctx, changes, have);
  return changes.map((c) => c.key);
}

describe("SDN staged by an interrupted run", () => {
  it("is applied by the next run, not created again; the run after changes nothing", async () => {
    t.sim.faults.addHttp({
      method: "PUT",
      path: "/cluster/sdn",
      count: 1,
      status: 500,
      message: "interrupted before apply",
    });
    await expect(run()).rejects.toThrow(/interrupted before apply/);
    // Staged, not applied: the new VNets' zone shows only under `pending`.
    const staged = await t.ok<{ vnet: string; zone?: string; state?: string; pending?: { zone?: string } }[]>(
      "GET",
      "/cluster/sdn/vnets",
      { pending: 1 },
    );
    expect(staged.find((v) => v.vnet === "iot")).toMatchObject({ state: "new", pending: { zone: "lab" } });
    expect(staged.find((v) => v.vnet === "iot")?.zone).toBeUndefined();
    expect(Object.keys(t.sim.state.sdn.running.vnets)).toEqual([]);
    expect(await run()).toEqual(["apply"]);
    expect(Object.keys(t.sim.state.sdn.running.vnets).sort()).toEqual(["iot", "trusted"]);
    expect(await run()).toEqual([]);
  });
});

describe("conformance", () => {
  it("every call lab made here (values and replies included) conforms to the PVE schema", () => {
    expect(calls.length).toBeGreaterThan(8);
    expect(checkCalls(calls)).toEqual([]);
  });
});
