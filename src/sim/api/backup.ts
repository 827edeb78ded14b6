// Scheduled backup jobs (/cluster/backup) and vzdump runs, which leave real
// backup volumes: vma archives on dir storages, snapshots in the PBS datastore.
import { randomUUID } from "node:crypto";
import { copyFileSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { parsePropString } from "../../proxmox/propstring.ts";
import type { Call, Routes } from "../context.ts";
import { deleteList, flag, need, node, settings, str } from "../context.ts";
import { fail, paramError } from "../errors.ts";
import { checkPrivs } from "../permissions.ts";
import type { Flat, Item, PbsSnapshot, VmState } from "../state.ts";
import type { TaskCtx } from "../tasks.ts";
import { DISK_KEY, addVolume, checkLock, diskSize, guestOf, now, storageOf, vmName } from "../vm.ts";
import { keepOptions, pruneGroup } from "../pbs-jobs.ts";
import {
  adoptSnapshotFile,
  datastoreSnapshots,
  groupPath,
  removeSnapshot,
  snapshotDir,
  snapshotFile,
  snapshotPath,
  writeSnapshotFiles,
} from "../pbs-store.ts";
import { pbsStorageNeeds } from "../pbs-acl.ts";

const INT_KEYS = /^(bwlimit|ionice|lockwait|maxfiles|pigz|stopwait|zstd)$/;

function jobView(id: string, job: Item): Item | Record<string, unknown> {
  const out: Record<string, unknown> = { id, type: "vzdump", enabled: 1 };
  for (const [k, v] of Object.entries(job)) {
    if (k === "prune-backups")
      out[k] = Object.fromEntries(Object.entries(parsePropString(String(v))).map(([pk, pv]) => [pk, Number(pv)]));
    else if (/^(enabled|all|protected|repeat-missed|remove|quiet|stop|stdexcludes)$/.test(k) || INT_KEYS.test(k))
      out[k] = Number(v);
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

/** PVE::VZDump::verify_vzdump_parameters, then what PVE::API2::Backup create_job checks. */
function verifyParams(c: Call, current: Item = {}): void {
  const value = (k: string): string | undefined => {
    if (c.params[k] !== undefined) return str(c, k);
    const old = current[k];
    return deleteList(c).includes(k) || old === undefined ? undefined : String(old);
  };
  const on = (k: string): boolean => !["", "0", "false", undefined].includes(value(k));
  if (on("all") && on("vmid")) throw paramError({ all: "option conflicts with option 'vmid'" });
  if (on("exclude") && on("vmid")) throw paramError({ exclude: "option conflicts with option 'vmid'" });
  if (on("pool") && on("vmid")) throw paramError({ pool: "option conflicts with option 'vmid'" });
  if (value("prune-backups") !== undefined && value("maxfiles") !== undefined)
    throw paramError({ "prune-backups": "option conflicts with option 'maxfiles'" });
  const prune = value("prune-backups");
  if (prune !== undefined) {
    const keep = parsePropString(prune);
    if (keep["keep-all"] === "1" && Object.keys(keep).length > 1)
      throw paramError({ "prune-backups": "keep-all cannot be set together with other options." });
  }
  if (value("notes-template")?.includes("\n")) throw paramError({ "notes-template": "contains a line feed" });
  if (!(on("all") || on("exclude") || on("stop") || on("pool")) && !on("vmid"))
    throw paramError({ vmid: "property is missing" });
  const storage = value("storage");
  if (storage !== undefined) storageOf(c.sim.state, storage);
}

function createJob(c: Call): null {
  const id = str(c, "id") ?? `backup-${randomUUID().slice(0, 13)}`;
  if (c.sim.state.backupJobs[id]) throw fail(`Job '${id}' already exists`);
  verifyParams(c);
  c.sim.state.backupJobs[id] = settings(c, ["id"]);
  return null;
}

function updateJob(c: Call): null {
  const current = job(c);
  verifyParams(c, current);
  for (const key of deleteList(c)) delete current[key];
  Object.assign(current, settings(c, ["id"], ["delete", "digest"]));
  return null;
}

/** vzdump's archive time stamp: 2020_11_25-14_38_36. */
const stamp = (d: Date): string => {
  const iso = d.toISOString();
  return `${iso.slice(0, 10).replace(/-/g, "_")}-${iso.slice(11, 19).replace(/:/g, "_")}`;
};

async function backupOne(c: Call, vm: VmState, sid: string, t: TaskCtx): Promise<void> {
  const { state } = c.sim;
  const cfg = storageOf(state, sid);
  const size = Math.round(Object.values(vm.config).reduce((n, v) => n + diskSize(v), 0) / 10) + 4096;
  const notes = str(c, "notes-template")
    ?.replace(/\{\{guestname\}\}/g, vmName(vm))
    .replace(/\{\{vmid\}\}/g, String(vm.vmid))
    .replace(/\{\{node\}\}/g, vm.node)
    .replace(/\{\{cluster\}\}/g, state.clusterName);
  const config = { ...vm.config };
  delete config.lock;
  t.log(`INFO: VM Name: ${vmName(vm)}`);
  for (const [key, value] of Object.entries(config)) {
    if (DISK_KEY.test(key) && !value.includes("media=cdrom"))
      t.log(`INFO: include disk '${key}' '${value.split(",")[0]}' ${parsePropString(value, "file").size ?? "0"}`);
  }
  t.log(`INFO: backup mode: ${str(c, "mode") ?? "snapshot"}`);
  if (cfg.type === "pbs") {
    await backupToPbs(c, vm, cfg, { size, config, notes }, t);
  } else {
    const volid = `${sid}:backup/vzdump-qemu-${vm.vmid}-${stamp(new Date())}.vma.zst`;
    addVolume(state, {
      volid,
      content: "backup",
      format: "vma.zst",
      size,
      ctime: now(),
      vmid: vm.vmid,
      backup: { config },
      ...(notes ? { notes } : {}),
    });
    t.log(`INFO: creating vzdump archive '${volid}'`);
  }
}

/**
 * A snapshot in the PBS datastore: qemu-server.conf.blob (the config), the
 * guest's filesystem as a tar when its backend has one (a container guest),
 * and index.json.blob (the manifest) last: a snapshot without it is unfinished.
 */
async function backupToPbs(
  c: Call,
  vm: VmState,
  cfg: Item,
  b: { size: number; config: Flat; notes: string | undefined },
  t: TaskCtx,
): Promise<void> {
  const { state, stateDir } = c.sim;
  const store = String(cfg.datastore);
  const list = datastoreSnapshots(state, store);
  pbsStorageNeeds(state, String(cfg.storage), "backup");
  const snap: PbsSnapshot = {
    "backup-type": "vm",
    "backup-id": String(vm.vmid),
    "backup-time": now(),
    files: ["qemu-server.conf.blob", "index.json.blob"],
    size: b.size,
    owner: String(cfg.username ?? "root@pam"),
    protected: flag(c, "protected") ?? false,
    config: b.config,
    ...(b.notes ? { comment: b.notes } : {}),
    finished: false,
  };
  if (list.some((s) => snapshotPath(s) === snapshotPath(snap)))
    throw new Error(`backup snapshot "${snapshotPath(snap)}" already exists`);
  const key = c.sim.state.storageSecrets[`${String(cfg.storage)}.enc`];
  if (cfg["encryption-key"] && !key)
    throw new Error(`encryption configured ('${String(cfg["encryption-key"])}') but no encryption key file found!`);
  if (key) {
    t.log("INFO: enabling encryption");
    snap.fingerprint = String(cfg["encryption-key"]);
  }
  t.log(`INFO: creating Proxmox Backup Server archive '${snapshotPath(snap)}'`);
  list.push(snap);
  try {
    const conf =
      Object.entries(b.config)
        .map(([k, v]) => `${k}: ${v}`)
        .join("\n") + "\n";
    writeSnapshotFiles(stateDir, store, snap, { "qemu-server.conf.blob": conf });
    const tmp = join(snapshotDir(stateDir, store, snap), "rootfs.tar.tmp");
    const rootfs =
      vm.rootfs && existsSync(vm.rootfs)
        ? (copyFileSync(vm.rootfs, tmp), true)
        : vm.status === "running" && c.sim.guests.exportFilesystem
          ? await c.sim.guests.exportFilesystem(guestOf(vm), tmp)
          : false;
    if (rootfs) {
      adoptSnapshotFile(stateDir, store, snap, "root.tar", tmp);
      snap.files.splice(1, 0, "root.tar");
      snap.size += statSync(snapshotFile(stateDir, store, snap, "root.tar")!).size;
      t.log(`INFO: root.tar: archived the guest's filesystem (${snap.size} bytes)`);
    }
    await t.step();
    writeSnapshotFiles(stateDir, store, snap, {
      "index.json.blob": JSON.stringify({
        "backup-type": "vm",
        "backup-id": snap["backup-id"],
        "backup-time": snap["backup-time"],
        files: snap.csum,
      }),
    });
    snap.finished = true;
    t.log(`INFO: backup is sparse: 0 B (0%) total zero data`);
    t.log(`INFO: transferred ${snap.size} B`);
  } catch (e) {
    // PBS drops a backup whose session ended in an error (no half-made snapshot stays).
    removeSnapshot(state, stateDir, store, snap);
    throw e;
  }
  pruneAfterBackup(c, cfg, store, snap, t);
}

/**
 * VZDump.pm after a successful backup (remove=1, the default): prune the guest's
 * group with the job's prune-backups, else the storage's; keep-all (the default
 * when neither sets one) prunes nothing. PVE runs `proxmox-backup-client prune`,
 * i.e. PBS's selection in the PBS server's time zone.
 */
function pruneAfterBackup(c: Call, cfg: Item, store: string, snap: PbsSnapshot, t: TaskCtx): void {
  if (flag(c, "remove") === false) return;
  const text =
    str(c, "prune-backups") ?? (cfg["prune-backups"] === undefined ? undefined : String(cfg["prune-backups"]));
  const keep = Object.fromEntries(
    Object.entries(parsePropString(text ?? "keep-all=1")).map(([k, v]) => [k, Number(v)]),
  );
  if (keep["keep-all"] || !Object.values(keep).some((n) => n > 0)) return;
  t.log(
    `INFO: prune older backups with retention: ${Object.entries(keep)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ")}`,
  );
  pbsStorageNeeds(c.sim.state, String(cfg.storage), "prune", snap.owner);
  const group = datastoreSnapshots(c.sim.state, store).filter((s) => groupPath(s) === groupPath(snap));
  const pruned = pruneGroup(c.sim, store, group, keepOptions(keep), false).filter((r) => !r.keep).length;
  t.log(`INFO: pruned ${pruned} backup(s)${pruned > 0 ? " not covered by keep-retention policy" : ""}`);
}

function vzdump(c: Call): string {
  const n = node(c);
  const { state } = c.sim;
  const sid = str(c, "storage") ?? "local";
  storageOf(state, sid);
  checkPrivs(state, c.auth, `/storage/${sid}`, ["Datastore.AllocateSpace"]);
  // VZDump's API: a prune-backups given with the call may remove backups, so it needs Datastore.Allocate.
  if (str(c, "prune-backups") !== undefined) checkPrivs(state, c.auth, `/storage/${sid}`, ["Datastore.Allocate"]);
  const listed = flag(c, "all") ? Object.keys(state.vms) : (str(c, "vmid") ?? "").split(/[,;\s]+/).filter(Boolean);
  const excluded = new Set((str(c, "exclude") ?? "").split(/[,;\s]+/));
  const vms = listed
    .filter((id) => !excluded.has(id))
    .map((id) => state.vms[id])
    .filter((vm): vm is VmState => vm?.node === n);
  for (const vm of vms) checkPrivs(state, c.auth, `/vms/${vm.vmid}`, ["VM.Backup"]);
  if (vms.length === 0) return "OK";
  const id = vms.length === 1 && !flag(c, "all") ? String(vms[0]!.vmid) : "";
  return c.sim.tasks.start({ node: n, type: "vzdump", id, auth: c.auth }, async (t) => {
    t.log(
      `INFO: starting new backup job: vzdump ${listed.join(" ")} --storage ${sid} --mode ${str(c, "mode") ?? "snapshot"}`,
    );
    const failed: number[] = [];
    for (const vm of vms) {
      t.log(`INFO: Starting Backup of VM ${vm.vmid} (qemu)`);
      try {
        checkLock(vm);
        vm.config.lock = "backup";
        await t.step();
        await backupOne(c, vm, sid, t);
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
