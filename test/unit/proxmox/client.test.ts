// The client against the simulator: TLS pinning (CA file, fingerprint, both),
// token and ticket auth, retries of transient errors only, "already exists"
// after a lost answer, task waits and the recorder.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LabError } from "../../../src/errors.ts";
import { ProxmoxClient, type ProxmoxClientOptions, type RecordedCall } from "../../../src/proxmox/client.ts";
import { ProxmoxApiError, ProxmoxTaskError } from "../../../src/proxmox/errors.ts";
import { ensureCert } from "../../../src/sim/cert.ts";
import { type Simulator, startSimulator } from "../../../src/sim/index.ts";

let sim: Simulator;
const dirs: string[] = [];
const tmp = (prefix: string): string => (dirs.push(mkdtempSync(join(tmpdir(), prefix))), dirs.at(-1)!);
const clients: ProxmoxClient[] = [];
const calls: RecordedCall[] = [];

beforeAll(async () => {
  sim = await startSimulator({ stateDir: tmp("lab-client-"), taskDelayMs: 10 });
});
afterAll(async () => {
  clients.forEach((c) => c.close());
  await sim.stop();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

async function connect(extra: Partial<ProxmoxClientOptions> = {}): Promise<ProxmoxClient> {
  const client = await ProxmoxClient.connect({
    url: sim.url,
    auth: { tokenId: sim.tokenId, tokenSecret: sim.tokenSecret },
    tls: { fingerprint: sim.fingerprint },
    retry: { attempts: 4, baseMs: 5 },
    tasks: { pollMs: 5 },
    recorder: (c) => calls.push(c),
    ...extra,
  });
  clients.push(client);
  return client;
}
const caught = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => "no error",
    (e: unknown) => e,
  );
const WRONG = "AA:".repeat(31) + "AA";

describe("TLS pinning", () => {
  it("connects with the pinned fingerprint (any case, any separators)", async () => {
    const c = await connect({ tls: { fingerprint: sim.fingerprint.toLowerCase().replace(/:/g, "") } });
    expect(await c.get("/version")).toMatchObject({ version: "9.1.3" });
    expect(c.fingerprint).toBe(sim.fingerprint);
  });

  it("refuses a wrong fingerprint, naming the endpoint, the expected and the actual one", async () => {
    const err = await caught(connect({ tls: { fingerprint: WRONG } }));
    expect(err).toBeInstanceOf(LabError);
    expect((err as Error).message).toBe(
      `TLS certificate of ${sim.url} does not match the pinned fingerprint: expected ${WRONG}, got ${sim.fingerprint}`,
    );
  });

  it("refuses a server whose certificate is not signed by the pinned CA, without retrying", async () => {
    const other = await ensureCert(tmp("lab-other-ca-"), "127.0.0.1");
    const c = await connect({ tls: { caFile: other.certFile } });
    const before = calls.length;
    const err = await caught(c.get("/version"));
    expect(err).toBeInstanceOf(LabError);
    expect((err as Error).message).toMatch(
      new RegExp(`^TLS verification of ${sim.url} failed \\((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)`),
    );
    expect(calls.length - before).toBe(1);
  });

  it("checks the fingerprint on every connection when a CA file is pinned too", async () => {
    const c = await connect({ tls: { caFile: sim.caFile, fingerprint: WRONG } });
    expect(((await caught(c.get("/version"))) as Error).message).toContain(`expected ${WRONG}, got ${sim.fingerprint}`);
    const ok = await connect({ tls: { caFile: sim.caFile } });
    expect(await ok.get("/version")).toMatchObject({ release: "9.1" });
  });
});

describe("auth", () => {
  it("logs in with a ticket, sends the CSRF token on writes, logs in again after a 401", async () => {
    const c = await connect({ auth: { username: "root@pam", password: sim.password }, tls: { caFile: sim.caFile } });
    await c.post("/cluster/firewall/aliases", { name: "gw", cidr: "10.0.0.1" });
    sim.faults.addHttp({ path: "^/cluster/firewall/aliases$", status: 401, message: "invalid PVE ticket" });
    const logins = calls.filter((x) => x.path === "/access/ticket").length;
    expect(await c.get("/cluster/firewall/aliases")).toEqual([expect.objectContaining({ name: "gw" })]);
    expect(calls.filter((x) => x.path === "/access/ticket").length).toBe(logins + 1);
  });

  it("fails a wrong password with 401 and no retry", async () => {
    const c = await connect({ auth: { username: "root@pam", password: "wrong" } });
    const err = (await caught(c.get("/version"))) as ProxmoxApiError;
    expect([err.status, err.reason]).toEqual([401, "authentication failure"]);
  });

  it("records values and replies for the conformance check, never a secret", async () => {
    const c = await connect();
    await c.put("/cluster/firewall/options", { enable: true, policy_in: "DROP" });
    expect(calls.at(-1)).toEqual({
      method: "PUT",
      path: "/cluster/firewall/options",
      keys: ["enable", "policy_in"],
      status: 200,
      product: "pve",
      values: { enable: "1", policy_in: "DROP" },
      reply: null,
    });
    // The ticket login of an earlier test: password sent, ticket and CSRF token received, none of them recorded.
    const login = calls.find((x) => x.path === "/access/ticket" && x.status === 200)!;
    expect(login.values).toEqual({ username: "root@pam", password: "REDACTED" });
    expect(login.reply).toMatchObject({ ticket: "REDACTED", CSRFPreventionToken: "REDACTED", username: "root@pam" });
    expect(JSON.stringify(calls)).not.toContain(sim.password);
    expect(JSON.stringify(calls)).not.toContain("PVE:root@pam:");
  });
});

describe("retries", () => {
  it("retries dropped connections (ECONNRESET) and succeeds", async () => {
    const c = await connect();
    sim.faults.addHttp({ path: "^/nodes$", drop: true, count: 2 });
    const before = calls.length;
    expect(await c.get("/nodes")).toHaveLength(1);
    expect(calls.slice(before).map((x) => x.status)).toEqual([0, 0, 200]);
  });

  it("retries a lock wait that timed out, not a plain 500", async () => {
    const c = await connect();
    sim.faults.addHttp({
      path: "^/cluster/nextid$",
      message: "can't lock file '/var/lock/pve-manager/pve-nextid.lck' - got timeout",
    });
    expect(await c.get("/cluster/nextid")).toBeGreaterThanOrEqual(100);
    sim.faults.addHttp({ path: "^/cluster/nextid$", count: 2, message: "unexpected failure" });
    const before = calls.length;
    expect(((await caught(c.get("/cluster/nextid"))) as ProxmoxApiError).reason).toBe("unexpected failure");
    expect(calls.length - before).toBe(1);
    sim.faults.clear();
  });

  it("does not retry 400 or 403", async () => {
    const c = await connect();
    const before = calls.length;
    expect(((await caught(c.get("/cluster/nextid", { vmid: 1 }))) as ProxmoxApiError).status).toBe(400);
    sim.faults.addHttp({ path: "^/version$", status: 403, message: "Permission check failed" });
    expect(((await caught(c.get("/version"))) as ProxmoxApiError).status).toBe(403);
    expect(calls.length - before).toBe(2);
  });

  it("gives up after the configured attempts", async () => {
    const c = await connect({ retry: { attempts: 3, baseMs: 1 } });
    sim.faults.addHttp({ path: "^/nodes$", status: 503, message: "busy", count: 5 });
    expect(((await caught(c.get("/nodes"))) as ProxmoxApiError).status).toBe(503);
    expect(sim.faults.list().http[0]?.count).toBe(2);
    sim.faults.clear();
  });

  it("counts 'already exists' on a retry as done (the lost answer had done the work)", async () => {
    const c = await connect();
    sim.faults.addHttp({ path: "^/cluster/firewall/groups$", method: "POST", drop: true, when: "after" });
    expect(await c.post("/cluster/firewall/groups", { group: "lan" })).toBeUndefined();
    expect(await c.get("/cluster/firewall/groups")).toEqual([expect.objectContaining({ group: "lan" })]);
  });
});

describe("PBS", () => {
  it("speaks PBS token syntax and reads PBS's plain-text errors", async () => {
    const c = await connect({ url: sim.pbsUrl!, product: "pbs" });
    expect(await c.get("/admin/datastore")).toEqual([expect.objectContaining({ store: "backup" })]);
    const err = (await caught(c.get("/admin/datastore/nope/status"))) as ProxmoxApiError;
    expect([err.status, err.reason]).toEqual([400, "datastore 'nope' does not exist"]);
  });
});

describe("tasks", () => {
  it("runs a call and waits for its task", async () => {
    const c = await connect();
    const r = await c.run("POST", "/nodes/pve/qemu", { vmid: 400, scsi0: "local-lvm:1", net0: "virtio,bridge=vmbr0" });
    expect(r).toMatchObject({
      exitstatus: "OK",
      upid: expect.stringMatching(/:qmcreate:400:root@pam!lab:$/) as unknown,
    });
  });

  it("fails with the task's exit status and the last log lines", async () => {
    const c = await connect();
    sim.faults.addTask({ type: "qmclone", message: "clone failed: cannot allocate" });
    const err = await caught(c.run("POST", "/nodes/pve/qemu/400/clone", { newid: 401 }));
    expect(err).toBeInstanceOf(ProxmoxTaskError);
    expect((err as Error).message).toBe(
      [
        "task qmclone 400 on pve failed: clone failed: cannot allocate",
        "  task log (last lines):",
        "    create full clone of drive scsi0 (local-lvm:vm-400-disk-0)",
        "    scsi0: successfully created disk 'local-lvm:vm-401-disk-0,size=1G'",
        "    TASK ERROR: clone failed: cannot allocate",
      ].join("\n"),
    );
  });

  it("times out a task that does not end, pointing at the UPID", async () => {
    const slow = await startSimulator({ stateDir: tmp("lab-slow-"), taskDelayMs: 5000, pbsPort: false });
    try {
      const c = await ProxmoxClient.connect({
        url: slow.url,
        auth: { tokenId: slow.tokenId, tokenSecret: slow.tokenSecret },
        tls: { caFile: slow.caFile },
      });
      clients.push(c);
      const err = await caught(c.run("POST", "/nodes/pve/qemu", { vmid: 100 }, { timeoutMs: 100, pollMs: 20 }));
      expect((err as Error).message).toBe("task qmcreate 100 on pve still running after 0 s");
      expect((err as LabError).hint).toContain("UPID:pve:");
    } finally {
      await slow.stop();
    }
  });
});
