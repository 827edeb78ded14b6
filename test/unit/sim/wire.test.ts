// The simulator speaks PVE on the wire: envelope, headers, status lines and
// error bodies as recorded from real servers; ticket and token auth; ACLs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestSim, createVm, fixture, startTestSim } from "./helpers.ts";

let t: TestSim;
beforeAll(async () => {
  t = await startTestSim();
});
afterAll(() => t.close());

describe("envelope and errors", () => {
  it("answers with PVE's exact content type, server header and {data}", async () => {
    const r = await t.call("GET", "/version");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/json;charset=UTF-8");
    expect(r.headers.server).toBe("pve-api-daemon/3.0");
    expect(r.body.data).toMatchObject({ version: "9.1.3", release: "9.1" });
  });

  it("rejects a missing ticket with 401 'No ticket' and an empty body", async () => {
    const r = await t.call("GET", "/version", {}, { headers: {} });
    expect([r.status, r.statusText, r.raw]).toEqual([401, "No ticket", ""]);
  });

  it("rejects a wrong token secret with 401 'Authentication failed!' (current PVE wording)", async () => {
    const r = await t.call(
      "GET",
      "/nodes",
      {},
      { headers: { Authorization: `PVEAPIToken=${t.sim.tokenId}=00000000-0000-0000-0000-000000000000` } },
    );
    expect([r.status, r.statusText]).toEqual([401, "Authentication failed!"]);
  });

  it("authenticates before routing: an unknown path without auth is 401, with auth 501", async () => {
    expect((await t.call("GET", "/nodes/pve/nothing", {}, { headers: {} })).status).toBe(401);
    const r = await t.call("GET", "/nodes/pve/nothing");
    expect([r.status, r.statusText]).toEqual([501, "Method 'GET /nodes/pve/nothing' not implemented"]);
  });

  it("answers a bad parameter with the recorded 400 (plus PVE >= 8.3's message)", async () => {
    const rec = fixture("pve62-08-cluster-nextid-400-invalid-vmid.json");
    const r = await t.call("GET", "/cluster/nextid", { vmid: 99 });
    expect([r.status, r.statusText]).toEqual([rec.response.status, rec.response.reason]);
    expect(r.body).toEqual({ ...rec.response.body, message: "Parameter verification failed.\n" });
  });

  it("rejects unknown parameters and 'true' for booleans, in JSON bodies too", async () => {
    const r = await t.call("POST", "/nodes/pve/qemu", { vmid: 150, colour: "red", onboot: "true" }, { json: true });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual({
      colour: "property is not defined in schema and the schema does not allow additional properties",
      onboot: "type check ('boolean') failed - got 'true'",
    });
    const ok = await t.call("POST", "/nodes/pve/qemu", { vmid: 150, onboot: true, cores: 2 }, { json: true });
    expect(ok.status).toBe(200);
    await t.task(ok.body.data as string);
  });

  it("reports a missing VM like PVE (recorded)", async () => {
    const rec = fixture("pve62-26-qemu-status-current-500-missing.json");
    const r = await t.call("GET", "/nodes/pve/qemu/101/status/current");
    expect([r.status, r.statusText]).toEqual([500, rec.response.reason]);
    expect(r.body).toEqual({ data: null, message: `${rec.response.reason}\n` });
  });

  it("fails on an unknown node like proxying would", async () => {
    const r = await t.call("GET", "/nodes/pve2/qemu");
    expect([r.status, r.statusText]).toEqual([500, "no such cluster node 'pve2'"]);
  });
});

describe("nextid", () => {
  it("hands out the lowest free VMID and rejects a taken one (recorded text)", async () => {
    const free = await t.ok<number>("GET", "/cluster/nextid");
    await createVm(t, free);
    expect(await t.ok("GET", "/cluster/nextid")).toBeGreaterThan(free);
    const rec = fixture("pve62-09-cluster-nextid-400-vmid-exists.json");
    const r = await t.call("GET", "/cluster/nextid", { vmid: free });
    expect(r.body.errors).toEqual({ vmid: `VM ${free} already exists` });
    expect(Object.keys(rec.response.body.errors ?? {})).toEqual(["vmid"]);
    expect(await t.ok("GET", "/cluster/nextid", { vmid: 4242 })).toBe(4242);
  });

  it("counts a VM being created (lock: create) as taken", async () => {
    t.sim.faults.addTask({ type: "qmcreate", message: "never mind" });
    const upid = await t.ok<string>("POST", "/nodes/pve/qemu", { vmid: 777 });
    expect((await t.call("GET", "/cluster/nextid", { vmid: 777 })).status).toBe(400);
    expect((await t.task(upid)).exitstatus).toBe("never mind");
    expect(await t.ok("GET", "/cluster/nextid", { vmid: 777 })).toBe(777);
  });
});

describe("tickets", () => {
  it("refuses a wrong password with the recorded 401", async () => {
    const rec = fixture("pve62-03-access-ticket-401-bad-password.json");
    const r = await t.call("POST", "/access/ticket", { username: "root@pam", password: "wrong" }, { headers: {} });
    expect([r.status, r.statusText]).toEqual([401, rec.response.reason]);
    expect(r.body.data).toBeNull();
  });

  it("issues a ticket usable as cookie; writes need the CSRF token", async () => {
    const login = await t.ok<{ ticket: string; CSRFPreventionToken: string; username: string }>(
      "POST",
      "/access/ticket",
      { username: "root@pam", password: t.sim.password },
      { headers: {} },
    );
    expect(login.ticket).toMatch(/^PVE:root@pam:[0-9A-F]{8}::/);
    expect(login.CSRFPreventionToken).toMatch(/^[0-9A-F]{8}:[A-Za-z0-9+/]{43}$/);
    const cookie = { Cookie: `PVEAuthCookie=${encodeURIComponent(login.ticket)}` };
    expect((await t.call("GET", "/nodes", {}, { headers: cookie })).status).toBe(200);
    const noCsrf = await t.call(
      "POST",
      "/cluster/firewall/aliases",
      { name: "dns", cidr: "10.0.0.53" },
      { headers: cookie },
    );
    expect([noCsrf.status, noCsrf.statusText]).toEqual([401, "Permission denied - invalid csrf token"]);
    const withCsrf = await t.call(
      "POST",
      "/cluster/firewall/aliases",
      { name: "dns", cidr: "10.0.0.53" },
      { headers: { ...cookie, CSRFPreventionToken: login.CSRFPreventionToken } },
    );
    expect(withCsrf.status).toBe(200);
  });

  it("renews a ticket when it is given as the password", async () => {
    const first = await t.ok<{ ticket: string }>(
      "POST",
      "/access/ticket",
      { username: "root@pam", password: t.sim.password },
      { headers: {} },
    );
    const again = await t.call(
      "POST",
      "/access/ticket",
      { username: "root@pam", password: first.ticket },
      { headers: {} },
    );
    expect(again.status).toBe(200);
  });

  it("does not serve ticket-only endpoints to tokens", async () => {
    const r = await t.call("PUT", "/access/password", { userid: "root@pam", password: "whatever1" });
    expect([r.status, r.statusText]).toEqual([
      403,
      "URI '/access/password' not available with API token, need proper ticket.",
    ]);
  });
});

describe("tokens and permissions", () => {
  it("limits a privilege-separated token to its own ACL and answers 403 with PVE's text", async () => {
    await t.ok("POST", "/access/users", { userid: "auditor@pve", password: "not-used-here" });
    const token = await t.ok<{ "full-tokenid": string; value: string; info: { privsep: number } }>(
      "POST",
      "/access/users/auditor@pve/token/ro",
    );
    expect(token["full-tokenid"]).toBe("auditor@pve!ro");
    expect(token.info.privsep).toBe(1);
    const dup = await t.call("POST", "/access/users/auditor@pve/token/ro");
    expect([dup.status, dup.body.errors]).toEqual([400, { tokenid: "Token already exists." }]);

    await t.ok("PUT", "/access/acl", { path: "/", roles: "PVEAuditor", users: "auditor@pve" });
    await t.ok("PUT", "/access/acl", { path: "/vms", roles: "PVEAuditor", tokens: "auditor@pve!ro" });
    const headers = { Authorization: `PVEAPIToken=auditor@pve!ro=${token.value}` };
    expect((await t.call("GET", "/nodes/pve/qemu", {}, { headers })).status).toBe(200);
    const denied = await t.call("POST", "/nodes/pve/qemu", { vmid: 990 }, { headers });
    expect([denied.status, denied.statusText]).toEqual([403, "Permission check failed (/vms/990, VM.Allocate)"]);

    const perms = await t.ok<Record<string, Record<string, number>>>("GET", "/access/permissions", {}, { headers });
    expect(perms["/vms"]).toMatchObject({ "VM.Audit": 1 });
    expect(perms["/vms"]?.["VM.Allocate"]).toBeUndefined();
    expect(perms["/storage"]).toBeUndefined(); // the token's ACL only covers /vms
  });
});
