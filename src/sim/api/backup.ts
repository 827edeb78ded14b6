// Scheduled backup jobs (/cluster/backup) and vzdump runs, which leave real
// backup volumes: vma archives on dir storages, snapshots in the PBS datastore.
import { randomUUID } from "node:crypto";
import { parsePropString } from "../../proxmox/propstring.ts";
import type { Call, Routes } from "../context.ts";
import { deleteList, flag, need, node, settings, str } from "../context.ts";
import { fail } from "../errors.ts";
import { checkPrivs } from "../permissions.ts";
import type { Item, VmState } from "../state.ts";
import type { TaskCtx } from "../tasks.ts";
import { addVolume, checkLock, diskSize, now, storageOf, vmName } from "../vm.ts";

const INT_KEYS = /^(bwlimit|ionice|lockwait|maxfiles|pigz|stopwait|zstd)$/;

function jobView(id: string, job: Item): Item | Record<string, unknown> {
  const out: Record<string, unknown> = { id, type: "vzdump", enabled: 1 };
  for (const [k, v] of Object.entries(job)) {
    if (k === "prune-backups") out[k] = Object.fromEntries(Object.entries(parsePropString(String(v))).map(([pk, pv]) => [pk, Number(pv)]));
    else if (/^(enabled|all|protected|repeat-missed|remove|quiet|stop|stdexcludes)$/.test(k) || INT_KEYS.test(k)) out[k] = Number(v);
    else out[k] = v;
  }
  if (out.enabled) out["next-run"] = (Math.floor(Date.now() / 3_600_000) + 1) * 3600;
  return out;
}

function job(c: Call): Item {
  const id = need(c, "id");
  const found = c.sim.state.backupJobs[id];
  if (!found) throw fail(`Job '${id}' does not exist`);
  return found;
}

function createJob(c: Call): null {
  const id = str(c, "id") ?? `backup-${randomUUID().slice(0, 13)}`;
  if (c.sim.state.backupJobs[id]) throw fail(`Job '${id}' already exists`);
  if (!str(c, "vmid") && !flag(c, "all") && !str(c, "pool")) throw fail("one of 'vmid', 'all' or 'pool' is required");
  c.sim.state.backupJobs[id] = settings(c, ["id"]);
  return null;
}

function updateJob(c: Call): null {
  const current = job(c);
  for (const key of deleteList(c)) delete current[key];
  Object.assign(current, settings(c, ["id"], ["delete", "digest"]));
  return null;
}

/** vzdump's archive time stamp: 2020_11_25-14_38_36. */
const stamp = (d: Date): string => {
  const iso = d.toISOString();
  return `${iso.slice(0, 10).replace(/-/g, "_")}-${iso.slice(11, 19).replace(/:/g, "_")}`;
};

function backupOne(c: Call, vm: VmState, sid: string, t: TaskCtx): void {
  const { state } = c.sim;
  const cfg = storageOf(state, sid);
  const size = Math.round(Object.values(vm.config).reduce((n, v) => n + diskSize(v), 0) / 10) + 4096;
  const notes = str(c, "notes-template")?.replace(/\{\{guestname\}\}/g, vmName(vm)).replace(/\{\{vmid\}\}/g, String(vm.vmid)).replace(/\{\{node\}\}/g, vm.node).replace(/\{\{cluster\}\}/g, state.clusterName);
  const config = { ...vm.config };
  delete config.lock;
  if (cfg.type === "pbs") {
    const store = String(cfg.datastore);
    (state.pbs.snapshots[store] ??= []).push({
      "backup-type": "vm", "backup-id": String(vm.vmid), "backup-time": now(), files: ["qemu-server.conf.blob", "drive-scsi0.img.fidx", "index.json.blob"],
      size, owner: String(cfg.username ?? "root@pam"), protected: flag(c, "protected") ?? false, config, ...(notes ? { comment: notes } : {}),
    });
  } else {
    const volid = `${sid}:backup/vzdump-qemu-${vm.vmid}-${stamp(new Date())}.vma.zst`;
    addVolume(state, { volid, content: "backup", format: "vma.zst", size, ctime: now(), vmid: vm.vmid, backup: { config }, ...(notes ? { notes } : {}) });
    t.log(`INFO: creating vzdump archive '${volid}'`);
  }
}

function vzdump(c: Call): string {
  const n = node(c);
  const { state } = c.sim;
  const sid = str(c, "storage") ?? "local";
  storageOf(state, sid);
  checkPrivs(state, c.auth, `/storage/${sid}`, ["Datastore.AllocateSpace"]);
  const listed = flag(c, "all") ? Object.keys(state.vms) : (str(c, "vmid") ?? "").split(/[,;\s]+/).filter(Boolean);
  const excluded = new Set((str(c, "exclude") ?? "").split(/[,;\s]+/));
  const vms = listed.filter((id) => !excluded.has(id)).map((id) => state.vms[id]).filter((vm): vm is VmState => vm?.node === n);
  for (const vm of vms) checkPrivs(state, c.auth, `/vms/${vm.vmid}`, ["VM.Backup"]);
  if (vms.length === 0) return "OK";
  const id = vms.length === 1 && !flag(c, "all") ? String(vms[0]!.vmid) : "";
  return c.sim.tasks.start({ node: n, type: "vzdump", id, auth: c.auth }, async (t) => {
    t.log(`INFO: starting new backup job: vzdump ${listed.join(" ")} --storage ${sid} --mode ${str(c, "mode") ?? "snapshot"}`);
    const failed: number[] = [];
    for (const vm of vms) {
      t.log(`INFO: Starting Backup of VM ${vm.vmid} (qemu)`);
      try {
        checkLock(vm);
        vm.config.lock = "backup";
        await t.step();
        backupOne(c, vm, sid, t);
        t.log(`INFO: Finished Backup of VM ${vm.vmid} (00:00:01)`);
      } catch (e) {
        failed.push(vm.vmid);
        t.log(`ERROR: Backup of VM ${vm.vmid} failed - ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        if (vm.config.lock === "backup") delete vm.config.lock;
      }
    }
    if (failed.length) throw new Error("job errors");
    t.log("INFO: Backup job finished successfully");
  });
}

export const backupRoutes: Routes = {
  "GET /cluster/backup": (c) => Object.entries(c.sim.state.backupJobs).map(([id, j]) => jobView(id, j)),
  "POST /cluster/backup": createJob,
  "GET /cluster/backup/{id}": (c) => jobView(need(c, "id"), job(c)),
  "PUT /cluster/backup/{id}": updateJob,
  "DELETE /cluster/backup/{id}": (c) => (job(c), delete c.sim.state.backupJobs[need(c, "id")], null),
  "POST /nodes/{node}/vzdump": vzdump,
};
