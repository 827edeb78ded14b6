// The client against replies recorded from real PVE servers (6.2 and 9.2):
// old string-typed numbers, errors only in the status line, the modern
// `message` field, empty 401s, synchronous template, and a task followed to its end.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProxmoxClient } from "../../../src/proxmox/client.ts";
import { ProxmoxApiError, ProxmoxTaskError } from "../../../src/proxmox/errors.ts";
import { pveApi } from "../../../src/proxmox/resources/api.ts";
import { type Replay, probes, recording, startReplay } from "./replay.ts";

const TOKEN = { tokenId: "root@pam!lab", tokenSecret: "11111111-2222-4333-8444-555555555555" };
let replay: Replay;
let client: ProxmoxClient;

const caught = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

beforeAll(async () => {
  replay = await startReplay([
    ...[
      "pve62-01-version.json",
      "pve62-06-nodes.json",
      "pve62-08-cluster-nextid-400-invalid-vmid.json",
      "pve62-10-qemu-create.json",
      "pve62-24-qemu-template-sync-null.json",
      "pve62-38-network-list.json",
      "pve62-17-task-log-complete.json",
      "pve62-16-task-status-stopped-ok-qmconfig.json",
      "pve62-04-apitoken-401-invalid-token.json",
    ].map(recording),
    { ...recording("pve62-11-qemu-create-500-already-exists.json"), path: "/nodes/pve/qemu/exists" },
    // Of two answers to the same token create, keep the successful one.
    ...probes().filter((p) => p.path !== "/version" && !(p.path.endsWith("/token/vault") && p.status === 400)),
  ]);
  client = await ProxmoxClient.connect({
    url: replay.url,
    auth: TOKEN,
    tls: { caFile: replay.caFile },
    retry: { attempts: 2, baseMs: 1 },
  });
});
afterAll(async () => {
  client.close();
  await replay.close();
});

describe("recorded PVE 6.2 replies", () => {
  it("reads data through the typed calls (pveApi)", async () => {
    const api = pveApi(client, "replay");
    expect(await api.get("/version")).toMatchObject({ version: "6.2-4", release: "6.2" });
    const nodes = await api.get("/nodes");
    expect(nodes[0]?.ssl_fingerprint).toMatch(/^D2:93/);
  });

  it("keeps envelope extras: the network diff in `changes`", async () => {
    const env = await client.envelope("GET", "/nodes/pve/network");
    expect(env.extra.changes).toContain("+++ /etc/network/interfaces.new");
    expect((env.data as unknown[]).length).toBe(4);
  });

  it("turns a 400 into an error listing each parameter", async () => {
    const err = await caught(client.get("/cluster/nextid", { vmid: 99 }));
    expect(err).toBeInstanceOf(ProxmoxApiError);
    expect((err as ProxmoxApiError).errors).toEqual({
      vmid: "invalid format - value does not look like a valid VM ID\n",
    });
    expect((err as Error).message).toContain(
      "400 Parameter verification failed.\n  vmid: invalid format - value does not look like a valid VM ID",
    );
  });

  it("takes the message from the status line when the body has none (PVE < 8.3)", async () => {
    const err = (await caught(client.post("/nodes/pve/qemu/exists"))) as ProxmoxApiError;
    expect([err.status, err.reason]).toEqual([500, "unable to create VM 100 - VM 100 already exists on node 'pve'"]);
  });

  it("treats PVE 6's synchronous template (data: null) as done", async () => {
    expect(await client.run("POST", "/nodes/pve/qemu/101/template")).toBeUndefined();
  });

  it("follows a recorded qmconfig task to TASK OK", async () => {
    const upid = "UPID:pve:00000ABE:0000CBDD:5FBE5E61:qmconfig:100:root@pam:";
    expect(await client.waitTask(upid, { pollMs: 1 })).toEqual({ upid, exitstatus: "OK", warnings: [] });
  });

  it("reports a 401 without body or content type with its status line and a hint", async () => {
    const err = (await caught(client.get("/access/users/root@pam/token/root1"))) as ProxmoxApiError;
    expect([err.status, err.reason]).toEqual([401, "invalid token value!"]);
    expect(err.hint).toContain("API token");
    expect(replay.seen.filter((s) => s === "GET /access/users/root@pam/token/root1")).toHaveLength(1);
  });
});

describe("recorded PVE 9.2 replies (message in the body)", () => {
  it("uses the JSON message and does not retry a 403", async () => {
    const before = replay.seen.length;
    const err = (await caught(
      client.get("/access/permissions", { userid: "<user>!vault", path: "/" }),
    )) as ProxmoxApiError;
    expect([err.status, err.reason]).toEqual([403, "Permission check failed (/access, Sys.Audit)"]);
    expect(replay.seen.length - before).toBe(1);
  });

  it("keeps 'already exists' as an error on a first try", async () => {
    const err = (await caught(client.post("/access/users", { userid: "probe-dup-52445741@pve" }))) as ProxmoxApiError;
    expect(err.reason).toBe("create user failed: user 'probe-dup-52445741@pve' already exists");
  });

  it("accepts string-typed flags in data (privsep '0')", async () => {
    const created = await client.post<{ info: { privsep: string } }>("/access/users/<userid>/token/vault", {
      privsep: 0,
    });
    expect(created.info.privsep).toBe("0");
  });
});

it("blames the task's node for a failed task", () => {
  const err = new ProxmoxTaskError(
    "UPID:pve:1:2:3:qmclone:100:root@pam:",
    "VM is locked (clone)",
    ["TASK ERROR: VM is locked (clone)"],
    "x",
  );
  expect(err.where.host).toBe("pve");
});
