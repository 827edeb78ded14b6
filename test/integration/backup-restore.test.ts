// A vzdump of a container-backed guest into the simulator's PBS holds the
// guest's real filesystem; a restore to a new VM id boots a guest from it (the
// restore drill's building block). Real Docker containers, loopback 127.0.36.x.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { containerGuests, removeGuests } from "../../src/sim/container-guests.ts";
import { type TestSim, runTask, startTestSim } from "../unit/sim/helpers.ts";

const PREFIX = "lab-it-backup";
const docker = async (...args: string[]) => (await promisify(execFile)("docker", args)).stdout.trim();
let t: TestSim;

beforeAll(async () => {
  await removeGuests(PREFIX);
  t = await startTestSim({ guestBackend: containerGuests({ prefix: PREFIX, subnet: "127.0.36" }) });
}, 120_000);

afterAll(async () => {
  await t?.sim.stop({ stopGuests: true });
  await removeGuests(PREFIX);
  await t?.close().catch(() => undefined);
});

it("backs up a running guest's filesystem to PBS and restores it as a new VM that boots with the same data", async () => {
  await t.ok("POST", "/storage", {
    storage: "pbs",
    type: "pbs",
    server: "127.0.0.1",
    datastore: "backup",
    username: "root@pam!lab",
    password: t.sim.tokenSecret,
    fingerprint: t.sim.fingerprint,
  });
  expect(
    (
      await runTask(t, "POST", "/nodes/pve/qemu", {
        vmid: 100,
        name: "db",
        memory: 512,
        scsi0: "local-lvm:1",
        agent: "enabled=1",
      })
    ).exitstatus,
  ).toBe("OK");
  expect((await runTask(t, "POST", "/nodes/pve/qemu/100/status/start")).exitstatus).toBe("OK");
  await docker("exec", `${PREFIX}-100`, "sh", "-c", "echo 'the data that must survive' > /root/marker");
  const hostKey = await docker("exec", `${PREFIX}-100`, "cat", "/etc/ssh/ssh_host_ed25519_key.pub");

  const backup = await runTask(t, "POST", "/nodes/pve/vzdump", { vmid: "100", storage: "pbs", mode: "snapshot" });
  expect(backup.exitstatus, backup.log.join("\n")).toBe("OK");
  expect(backup.log.some((l) => l.startsWith("INFO: root.tar: archived the guest's filesystem"))).toBe(true);
  const [vol] = await t.ok<{ volid: string }[]>("GET", "/nodes/pve/storage/pbs/content", {
    content: "backup",
    vmid: 100,
  });

  const restore = await runTask(t, "POST", "/nodes/pve/qemu", {
    vmid: 101,
    archive: vol!.volid,
    storage: "local-lvm",
    unique: 1,
  });
  expect(restore.exitstatus, restore.log.join("\n")).toBe("OK");
  expect((await runTask(t, "POST", "/nodes/pve/qemu/101/status/start")).exitstatus).toBe("OK");
  const marker = await t.ok<{ content: string }>("GET", "/nodes/pve/qemu/101/agent/file-read", {
    file: "/root/marker",
  });
  expect(marker.content).toBe("the data that must survive\n");
  expect(await docker("exec", `${PREFIX}-101`, "cat", "/etc/ssh/ssh_host_ed25519_key.pub")).toBe(hostKey);
  // Its own address on the test's loopback subnet, not the original's.
  const ifaces = await t.ok<{ result: { "ip-addresses"?: { "ip-address": string }[] }[] }>(
    "GET",
    "/nodes/pve/qemu/101/agent/network-get-interfaces",
  );
  expect(ifaces.result.flatMap((i) => i["ip-addresses"] ?? []).map((a) => a["ip-address"])).toContain("127.0.36.102");
}, 180_000);
