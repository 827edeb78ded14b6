// Storage: real downloads with checksums, PBS storage, backup jobs, vzdump,
// restore, and the PBS listener; plus state surviving a restart.
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestSim, createVm, runTask, startTestSim } from "./helpers.ts";

const image = Buffer.alloc(64 * 1024, "lab-cloud-image");
const sha256 = createHash("sha256").update(image).digest("hex");
let t: TestSim;
let http: Server;
let imageUrl: string;

beforeAll(async () => {
  t = await startTestSim();
  http = createServer((req, res) => (req.url === "/debian.qcow2" ? res.end(image) : res.writeHead(404).end()));
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  imageUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
afterAll(async () => {
  http.close();
  await t.close();
});

describe("download-url", () => {
  it("downloads from loopback, verifies the checksum and offers the file for import", async () => {
    const r = await runTask(t, "POST", "/nodes/pve/storage/local/download-url", {
      url: `${imageUrl}/debian.qcow2`,
      content: "import",
      filename: "debian.qcow2",
      checksum: sha256,
      "checksum-algorithm": "sha256",
    });
    expect(r.exitstatus).toBe("OK");
    const content = await t.ok<{ volid: string; size: number }[]>("GET", "/nodes/pve/storage/local/content", {
      content: "import",
    });
    expect(content).toEqual([
      expect.objectContaining({ volid: "local:import/debian.qcow2", size: image.length, format: "qcow2" }),
    ]);
    await createVm(t, 300, { scsi0: "local-lvm:0,import-from=local:import/debian.qcow2" });
    expect((await t.ok<{ scsi0: string }>("GET", "/nodes/pve/qemu/300/config")).scsi0).toBe(
      "local-lvm:vm-300-disk-0,size=64K",
    );
  });

  it("fails the task on a checksum mismatch and keeps nothing", async () => {
    const r = await runTask(t, "POST", "/nodes/pve/storage/local/download-url", {
      url: `${imageUrl}/debian.qcow2`,
      content: "import",
      filename: "other.qcow2",
      checksum: "00",
      "checksum-algorithm": "sha256",
    });
    expect(r.exitstatus).toBe(`checksum mismatch: got '${sha256}' != expect '00'`);
    expect((await t.ok<unknown[]>("GET", "/nodes/pve/storage/local/content", { content: "import" })).length).toBe(1);
  });

  it("refuses a wrong extension (400), an existing file and a storage without the content type", async () => {
    const base = { url: `${imageUrl}/debian.qcow2`, content: "iso" };
    expect(
      (await t.call("POST", "/nodes/pve/storage/local/download-url", { ...base, filename: "x.qcow2" })).body.errors,
    ).toEqual({ filename: "invalid filename or wrong extension" });
    expect(
      (await t.call("POST", "/nodes/pve/storage/local-lvm/download-url", { ...base, filename: "x.iso" })).statusText,
    ).toBe("storage 'local-lvm' does not support content-type 'iso'");
    expect(
      (
        await t.call("POST", "/nodes/pve/storage/local/download-url", {
          ...base,
          content: "import",
          filename: "debian.qcow2",
        })
      ).statusText,
    ).toBe("refusing to override existing file 'debian.qcow2'");
  });
});

describe("backups", () => {
  it("adds a PBS storage only when the datastore exists and the fingerprint matches", async () => {
    const base = {
      storage: "pbs",
      type: "pbs",
      server: "127.0.0.1",
      username: "root@pam!lab",
      password: t.sim.tokenSecret,
      fingerprint: t.sim.fingerprint,
    };
    expect((await t.call("POST", "/storage", { ...base, datastore: "nope" })).statusText).toBe(
      "Cannot find datastore 'nope', check permissions and existence!",
    );
    const wrongPin = await t.call("POST", "/storage", {
      ...base,
      datastore: "backup",
      fingerprint: "AA:".repeat(31) + "AA",
    });
    expect(wrongPin.status).toBe(500);
    expect(await t.ok("POST", "/storage", { ...base, datastore: "backup" })).toEqual({ storage: "pbs", type: "pbs" });
    expect(await t.ok<Record<string, unknown>>("GET", "/storage/pbs")).not.toHaveProperty("password");
    expect((await t.call("POST", "/storage", { ...base, datastore: "backup" })).statusText).toBe(
      "storage ID 'pbs' already defined",
    );
  });

  it("creates backup jobs with their own id and refuses duplicates", async () => {
    await t.ok("POST", "/cluster/backup", {
      id: "nightly",
      schedule: "02:30",
      storage: "pbs",
      vmid: "300",
      mode: "snapshot",
      "prune-backups": "keep-daily=7,keep-weekly=4",
    });
    expect((await t.call("POST", "/cluster/backup", { id: "nightly", schedule: "daily", all: 1 })).statusText).toBe(
      "Job 'nightly' already exists",
    );
    expect(await t.ok("GET", "/cluster/backup/nightly")).toMatchObject({
      id: "nightly",
      schedule: "02:30",
      "prune-backups": { "keep-daily": 7, "keep-weekly": 4 },
    });
    expect(
      (await t.call("POST", "/cluster/backup", { id: "bad", schedule: "every day", all: 1 })).body.errors,
    ).toHaveProperty("schedule");
  });

  it("runs vzdump into PBS, lists the snapshot on both sides and restores it", async () => {
    const r = await runTask(t, "POST", "/nodes/pve/vzdump", {
      vmid: "300",
      storage: "pbs",
      "notes-template": "{{guestname}}",
    });
    expect(r.exitstatus).toBe("OK");
    const volumes = await t.ok<{ volid: string; format: string; notes: string }[]>(
      "GET",
      "/nodes/pve/storage/pbs/content",
      { vmid: 300 },
    );
    expect(volumes).toEqual([expect.objectContaining({ format: "pbs-vm", notes: "vm300" })]);
    expect(volumes[0]!.volid).toMatch(/^pbs:backup\/vm\/300\/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const pbs = {
      base: t.sim.pbsUrl!,
      headers: { Authorization: `PBSAPIToken=${t.sim.tokenId}:${t.sim.tokenSecret}` },
    };
    const snaps = await t.ok<{ "backup-id": string; "backup-type": string }[]>(
      "GET",
      "/admin/datastore/backup/snapshots",
      {},
      pbs,
    );
    expect(snaps).toEqual([expect.objectContaining({ "backup-type": "vm", "backup-id": "300" })]);
    expect(await t.ok("GET", "/admin/datastore/backup/groups", {}, pbs)).toEqual([
      expect.objectContaining({ "backup-count": 1 }),
    ]);
    const pbsError = await t.call("GET", "/admin/datastore/nope/status", {}, pbs);
    expect([pbsError.status, pbsError.raw]).toEqual([400, "datastore 'nope' does not exist"]);

    const restore = await runTask(t, "POST", "/nodes/pve/qemu", {
      vmid: 301,
      archive: volumes[0]!.volid,
      storage: "local-lvm",
      unique: 1,
    });
    expect(restore.exitstatus).toBe("OK");
    const restored = await t.ok<{ name: string; scsi0: string }>("GET", "/nodes/pve/qemu/301/config");
    expect(restored).toMatchObject({ name: "vm300", scsi0: "local-lvm:vm-301-disk-0,size=64K" });
  });

  it("fails a backup of a locked VM inside the task", async () => {
    t.sim.state.vms["300"]!.config.lock = "migrate";
    const r = await runTask(t, "POST", "/nodes/pve/vzdump", { vmid: "300", storage: "local" });
    delete t.sim.state.vms["300"]!.config.lock;
    expect(r.exitstatus).toBe("job errors");
    expect(r.log).toContain("ERROR: Backup of VM 300 failed - VM is locked (migrate)");
  });
});

describe("restart", () => {
  it("keeps VMs, storage, tasks, token and certificate across a restart", async () => {
    const before = { fingerprint: t.sim.fingerprint, token: t.sim.tokenSecret, tasks: t.sim.state.tasks.length };
    await t.restart();
    expect(t.sim.fingerprint).toBe(before.fingerprint);
    expect(t.sim.tokenSecret).toBe(before.token);
    expect(await t.ok("GET", "/nodes/pve/qemu/300/config")).toMatchObject({ name: "vm300" });
    expect(await t.ok<unknown[]>("GET", "/nodes/pve/tasks", { limit: 500 })).toHaveLength(before.tasks);
    expect(await t.ok("GET", "/storage/pbs")).toMatchObject({ datastore: "backup" });
  });

  it("ends tasks that were running at shutdown, like a crashed worker", async () => {
    await t.restart({ taskDelayMs: 10_000 });
    const upid = await t.ok<string>("POST", "/nodes/pve/qemu/300/status/start");
    await t.restart({ taskDelayMs: 20 });
    expect((await t.task(upid)).exitstatus).toBe("interrupted by signal");
  });
});
