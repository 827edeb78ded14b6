// A backup job whose VMs an earlier play of the same run creates: the plan says
// which vmids are known only after apply, and apply refuses to write a partial list.
import { describe, expect, it } from "vitest";
import {
  backupJob,
  backupJobDiff,
  pruneBackups,
  type BackupJobWant,
} from "../../../src/proxmox/resources/backup-job.ts";
import { hostCtx } from "../helpers/host-ctx.ts";
import { fakePve } from "./fake-pve.ts";

const want: BackupJobWant = {
  id: "lab-vms",
  schedule: "02:30",
  storage: "pbs-lab",
  vms: ["trusted1", "app1"],
  mode: "snapshot",
  retention: { daily: 7 },
};

describe("backup job", () => {
  it("plans VMs not created yet as known after apply, and apply refuses a partial list", async () => {
    const have = { job: undefined, vmids: { trusted1: 201, app1: undefined } };
    expect(backupJobDiff(want, have)).toEqual([
      {
        key: "create",
        summary: 'create backup job lab-vms: 201, app1: known after apply to pbs-lab at "02:30", keep-daily=7',
        before: null,
        after: {
          id: "lab-vms",
          vmid: "201,app1: known after apply",
          storage: "pbs-lab",
          schedule: "02:30",
          mode: "snapshot",
          "prune-backups": "keep-daily=7",
          "notes-template": "{{guestname}} ({{node}}) by lab",
        },
      },
    ]);
    const api = fakePve();
    await expect(backupJob(() => Promise.resolve(api), want).apply(hostCtx(), [], have)).rejects.toThrow(
      "backup job lab-vms: VM(s) app1 do not exist yet",
    );
    expect(api.calls).toEqual([]);
  });

  it("reads the VMs' ids from the cluster, skipping templates of the same name", async () => {
    const api = fakePve({
      "GET /cluster/resources": [
        { type: "qemu", vmid: 9000, name: "app1", node: "pve", template: 1 },
        { type: "qemu", vmid: 201, node: "pve", status: "unknown" },
        { type: "lxc", vmid: 300, name: "app1", node: "pve" },
      ],
      // The node's own list names VM 201 already (/cluster/resources is a status cycle behind).
      "GET /nodes/pve/qemu": [
        { vmid: 9000, name: "app1", status: "stopped", template: 1 },
        { vmid: 201, name: "trusted1", status: "stopped" },
      ],
      "GET /cluster/backup/lab-vms": { id: "lab-vms", schedule: "02:30" },
    });
    const have = await backupJob(() => Promise.resolve(api), want).read(hostCtx());
    expect(have.vmids).toEqual({ trusted1: 201, app1: undefined });
  });

  it("writes retention the way Proxmox does; none at all keeps everything", () => {
    expect(pruneBackups({ yearly: 1, last: 3, daily: 7 })).toBe("keep-last=3,keep-daily=7,keep-yearly=1");
    expect(pruneBackups({})).toBe("keep-all=1");
  });
});

describe("PBS storage", () => {
  it("pins the fingerprint of a self-signed certificate file, read when planning", async () => {
    const { ensureCert } = await import("../../../src/sim/cert.ts");
    const { tempDir } = await import("../helpers/temp.ts");
    const { pbsStorage, certFingerprint } = await import("../../../src/proxmox/resources/pbs-storage.ts");
    const { Secret } = await import("../../../src/secrets/secret.ts");
    const cert = await ensureCert(await tempDir("lab-pbscert-"), "127.0.0.1");
    expect(await certFingerprint(cert.certFile)).toBe(cert.fingerprint);
    const api = fakePve({
      "GET /storage/pbs-lab": {
        storage: "pbs-lab",
        type: "pbs",
        server: "127.0.0.1",
        datastore: "lab",
        username: "a@pbs!b",
        fingerprint: "00:11",
        content: "backup",
      },
    });
    const r = pbsStorage(() => Promise.resolve(api), {
      storage: "pbs-lab",
      server: "127.0.0.1",
      datastore: "lab",
      username: "a@pbs!b",
      password: new Secret("p", "x"),
      fingerprint: { certFile: cert.certFile },
    });
    const have = await r.read(hostCtx());
    expect(r.diff(r.want, have)).toEqual([
      {
        key: "fingerprint",
        summary: `fingerprint 00:11 -> ${cert.fingerprint}`,
        before: "00:11",
        after: cert.fingerprint,
      },
    ]);
    await expect(certFingerprint("/nonexistent/cert.pem")).rejects.toThrow(
      "cannot read the PBS certificate /nonexistent/cert.pem",
    );
  });
});
