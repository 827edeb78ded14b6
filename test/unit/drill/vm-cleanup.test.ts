// Removing drill copies against the simulator (state-only guests): only VMs with
// the drill tag AND the marker, only inside the range, optionally only one run's;
// running copies are stopped first. And the restore the drill sends: one
// qmrestore with unique=1 and overrides (name, tags, description, NICs), as
// PVE >= 7.2 takes it, drives refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeCopyAt, removeDrillCopies } from "../../../src/drill/vm-drill.ts";
import { nicsOnVlan, scratchMarking } from "../../../src/drill/vm-plan.ts";
import { ProxmoxClient } from "../../../src/proxmox/client.ts";
import { pveApi, type PveApi } from "../../../src/proxmox/resources/api.ts";
import { createVm, runTask, startTestSim, type TestSim } from "../sim/helpers.ts";

let t: TestSim;
let client: ProxmoxClient;
let api: PveApi;
let volid: string;

beforeAll(async () => {
  t = await startTestSim();
  client = await ProxmoxClient.connect({
    url: t.sim.url,
    auth: { tokenId: t.sim.tokenId, tokenSecret: t.sim.tokenSecret },
    tls: { caFile: t.sim.caFile },
  });
  api = pveApi(client, "pve1");
  await t.ok("POST", "/storage", {
    storage: "pbs",
    type: "pbs",
    server: "127.0.0.1",
    datastore: "backup",
    username: "root@pam!lab",
    password: t.sim.tokenSecret,
    fingerprint: t.sim.fingerprint,
  });
  await createVm(t, 200, {
    name: "app1",
    net0: "virtio,bridge=vmbr0,firewall=1,tag=10",
    tags: "lab",
    ide2: "local-lvm:cloudinit",
  });
  expect((await runTask(t, "POST", "/nodes/pve/vzdump", { vmid: "200", storage: "pbs" })).exitstatus).toBe("OK");
  volid = (
    await t.ok<{ volid: string }[]>("GET", "/nodes/pve/storage/pbs/content", { content: "backup", vmid: 200 })
  )[0]!.volid;
});

afterAll(async () => {
  client?.close();
  await t?.close();
});

const restoreCopy = async (vmid: number, run: string) => {
  const mark = scratchMarking({ run, target: "apps", vm: "app1", volid });
  const upid = await api.post("/nodes/{node}/qemu", {
    node: "pve",
    vmid,
    archive: volid,
    storage: "local-lvm",
    unique: true,
    ...mark,
    ...nicsOnVlan(t.sim.state.vms[200]!.config, 40),
  });
  await api.wait(upid, "restore");
};

describe("VM drill copies on the simulator", () => {
  it("restores in one call: marked, every NIC on the drill VLAN with a fresh MAC, production's config untouched", async () => {
    const prod = JSON.stringify(t.sim.state.vms[200]!.config);
    await restoreCopy(299, "R1");
    const cfg = await api.get("/nodes/{node}/qemu/{vmid}/config", { node: "pve", vmid: 299 });
    expect(cfg).toMatchObject({ name: "lab-drill-app1", tags: "lab-drill" });
    expect(cfg.description).toMatch(/^lab:lab-drill=R1;target=apps;source=app1\n/);
    expect(cfg.net0).toMatch(/^virtio=BC:24:11:[0-9A-F:]+,bridge=vmbr0,firewall=1,tag=40$/);
    expect(cfg.net0!.split(",")[0]).not.toBe(t.sim.state.vms[200]!.config.net0!.split(",")[0]);
    expect(cfg.scsi0).toMatch(/^local-lvm:vm-299-disk-0/);
    expect(cfg.ide2).toBe("local-lvm:vm-299-cloudinit,media=cdrom"); // its own cloud-init drive, not production's
    expect(JSON.stringify(t.sim.state.vms[200]!.config)).toBe(prod);
  });

  it("refuses a drive option next to the archive, as PVE does", async () => {
    const r = await t.call("POST", "/nodes/pve/qemu", { vmid: 298, archive: volid, scsi1: "local-lvm:1", name: "x" });
    expect([r.status, r.body.errors]).toEqual([400, { scsi1: "option conflicts with option 'archive'" }]);
  });

  it("removes only marked copies in the range (running ones stopped first), one run's when asked", async () => {
    await restoreCopy(298, "R2");
    expect((await runTask(t, "POST", "/nodes/pve/qemu/298/status/start")).exitstatus).toBe("OK");
    await createVm(t, 297, { name: "tagged-only", tags: "lab-drill" });
    await createVm(t, 296, { name: "marker-only", description: "lab:lab-drill=R1;target=apps;source=app1" });
    await restoreCopy(150, "R1"); // outside the range
    expect(await removeDrillCopies(api, "pve", { min: 200, max: 299 }, "R1")).toEqual(["pve1/299 (lab-drill-app1)"]);
    expect(Object.keys(t.sim.state.vms).map(Number).sort()).toEqual([150, 200, 296, 297, 298]);
    expect(await removeDrillCopies(api, "pve", { min: 200, max: 299 })).toEqual(["pve1/298 (lab-drill-app1)"]);
    expect(Object.keys(t.sim.state.vms).map(Number).sort()).toEqual([150, 200, 296, 297]);
    expect(await removeDrillCopies(api, "pve", { min: 200, max: 299 })).toEqual([]);
    // Production's disks survived its copies' destruction.
    expect(
      t.sim.state.volumes["local-lvm"]!.filter((v) => v.vmid === 200)
        .map((v) => v.volid)
        .sort(),
    ).toEqual(["local-lvm:vm-200-cloudinit", "local-lvm:vm-200-disk-0"]);
  });

  it("removes one copy by its id (no listing needed): only a marked one, only of the given run", async () => {
    expect(await removeCopyAt(api, "pve", 250, "R1")).toBeUndefined(); // no such VM
    expect(await removeCopyAt(api, "pve", 297, "R1")).toBeUndefined(); // tagged only
    expect(await removeCopyAt(api, "pve", 150, "R9")).toBeUndefined(); // another run's
    expect(await removeCopyAt(api, "pve", 150, "R1")).toBe("pve1/150 (lab-drill-app1)");
    expect(t.sim.state.vms[150]).toBeUndefined();
  });
});
