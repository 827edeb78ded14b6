// Create (and restore), clone, convert to template, resize, destroy: the
// checks PVE makes before forking fail synchronously (HTTP 500), the rest
// happens in the worker task, with the locks PVE holds meanwhile.
import { randomUUID } from "node:crypto";
import { copyFileSync, mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { snapshotFile, snapshotPath } from "../pbs-store.ts";
import { formatPropString, formatSize, parsePropString, parseSize } from "../../proxmox/propstring.ts";
import type { Call, Routes } from "../context.ts";
import { flag, need, node, settings, str } from "../context.ts";
import { fail } from "../errors.ts";
import { checkPrivs, hasPriv } from "../permissions.ts";
import type { Flat, SimState, VmState } from "../state.ts";
import type { TaskCtx } from "../tasks.ts";
import {
  DISK_KEY,
  addVolume,
  allocateDrive,
  checkLock,
  findVolume,
  nextDiskIndex,
  getVm,
  isShared,
  isTemplate,
  now,
  ownedVolumes,
  removeVolume,
  storageOf,
  vmName,
  withMac,
} from "../vm.ts";
import { checkBridges, checkConfigKeys, checkDrives } from "../qemu-perms.ts";
import { CONTROL_KEYS } from "./qemu-config.ts";
import { startVm } from "./qemu-power.ts";
import { mergeRestoreConfig, restoreOverrides } from "../restore-overrides.ts";
import { pbsStorageNeeds } from "../pbs-acl.ts";

const newVm = (vmid: number, nodeName: string, config: Flat): VmState => ({
  vmid,
  node: nodeName,
  config,
  pending: {},
  pendingDelete: [],
  status: "stopped",
});

const identity = (): Flat => ({
  smbios1: `uuid=${randomUUID()}`,
  vmgenid: randomUUID(),
  meta: `creation-qemu=10.0.2,ctime=${now()}`,
});

/** Drop a VM and every disk volume it owns, referenced or half-made (failed create/clone cleanup, destroy). */
function purgeVm(state: SimState, vmid: number): void {
  const vm = state.vms[vmid];
  const referenced = vm ? ownedVolumes(state, { ...vm.config, ...vm.pending }) : [];
  const orphans = Object.values(state.volumes)
    .flat()
    .filter((v) => v.vmid === vmid && v.content === "images")
    .map((v) => v.volid);
  for (const volid of new Set([...referenced, ...orphans])) removeVolume(state, volid);
  delete state.vms[vmid];
}

function finishCreate(c: Call, vm: VmState, config: Flat, t: TaskCtx): void {
  const out: Flat = {};
  for (const [key, value] of Object.entries(config)) {
    if (DISK_KEY.test(key)) out[key] = allocateDrive(c.sim.state, vm.vmid, key, value, t.log);
    else if (/^net\d+$/.test(key)) out[key] = withMac(c.sim.state, value);
    else out[key] = value;
  }
  vm.config = { ...identity(), ...out };
}

function create(c: Call): string {
  const { state } = c.sim;
  const nodeName = node(c);
  const vmid = Number(need(c, "vmid"));
  const existing = state.vms[vmid];
  const archive = str(c, "archive");
  const pool = str(c, "pool");
  if (!(archive && existing && hasPriv(state, c.auth, `/vms/${vmid}`, "VM.Backup"))) {
    if (!pool || !hasPriv(state, c.auth, `/pool/${pool}`, "VM.Allocate"))
      checkPrivs(state, c.auth, `/vms/${vmid}`, ["VM.Allocate"]);
  }
  if (existing && !(archive && flag(c, "force"))) {
    throw fail(`unable to create VM ${vmid} - VM ${vmid} already exists on node '${existing.node}'`);
  }
  if (archive) return restore(c, nodeName, vmid, archive, restoreOverrides(c, CONTROL_KEYS));
  const config = settings(c, [], CONTROL_KEYS);
  checkConfigKeys(state, c.auth, vmid, Object.keys(config));
  checkDrives(state, c.auth, vmid, config);
  checkBridges(state, c.auth, config);
  const vm = newVm(vmid, nodeName, { lock: "create" });
  state.vms[vmid] = vm;
  const onError = (): void => purgeVm(state, vmid);
  return c.sim.tasks.start({ node: nodeName, type: "qmcreate", id: String(vmid), auth: c.auth, onError }, async (t) => {
    await t.step();
    finishCreate(c, vm, config, t);
    if (flag(c, "start")) await startVm(c, vm, t);
  });
}

function restore(c: Call, nodeName: string, vmid: number, archive: string, overrides: Flat): string {
  const { state } = c.sim;
  const old = state.vms[vmid];
  if (old?.status === "running") throw fail(`unable to restore VM ${vmid} - VM is running`);
  if (old) checkLock(old);
  return c.sim.tasks.start({ node: nodeName, type: "qmrestore", id: String(vmid), auth: c.auth }, async (t) => {
    const backup = findVolume(state, archive)?.backup;
    if (!backup) throw new Error(`volume '${archive}' does not exist`);
    // check_restore_permissions: the NICs of the backed-up config.
    checkBridges(state, c.auth, backup.config);
    // The PBS reader protocol, logged in as the storage: Datastore.Read, or Datastore.Backup on an owned group.
    if (backup.pbs) {
      const { store, path } = backup.pbs;
      const owner = state.pbs.snapshots[store]?.find((s) => snapshotPath(s) === path)?.owner;
      pbsStorageNeeds(state, archive.split(":")[0]!, "restore", owner);
    }
    t.log(backup.pbs ? `restore proxmox backup image: ${archive}` : `restore vma archive: ${archive}`);
    await t.step();
    purgeVm(state, vmid);
    const target = str(c, "storage");
    const config: Flat = {};
    for (const [key, value] of Object.entries(backup.config)) {
      if (/^unused\d+$/.test(key)) continue;
      const parts = parsePropString(value, "file");
      if (DISK_KEY.test(key) && parts.file?.includes("cloudinit")) {
        // restore_allocate_devices: a new cloud-init drive for the new VM, never the source VM's volume.
        config[key] = `${target ?? parts.file.split(":")[0]!}:cloudinit`;
      } else if (DISK_KEY.test(key) && parts.media !== "cdrom" && parts.file?.includes(":")) {
        const sid = target ?? parts.file.split(":")[0]!;
        const gib = (parseSize(parts.size ?? "1G") ?? 1024 ** 3) / 1024 ** 3;
        config[key] = formatPropString({ ...parts, file: `${sid}:${gib}` }, "file");
      } else if (/^net\d+$/.test(key) && flag(c, "unique")) {
        config[key] = withMac(state, value, true);
      } else {
        config[key] = value;
      }
    }
    const vm = newVm(vmid, nodeName, {});
    state.vms[vmid] = vm;
    finishCreate(c, vm, mergeRestoreConfig(config, overrides), t);
    const rootfs = backup.pbs && restoredFilesystem(c, vmid, backup.pbs);
    if (rootfs) {
      vm.rootfs = rootfs;
      t.log(`restored the guest filesystem from ${backup.pbs!.path}/root.tar`);
    }
    t.log("rescan volumes...");
  });
}

/** The filesystem tar of a PBS snapshot, copied to the restored VM (a later prune must not take it away). */
function restoredFilesystem(c: Call, vmid: number, from: { store: string; path: string }): string | undefined {
  const snap = c.sim.state.pbs.snapshots[from.store]?.find((s) => snapshotPath(s) === from.path);
  const file = snap && snapshotFile(c.sim.stateDir, from.store, snap, "root.tar");
  if (!file) return undefined;
  const dir = join(c.sim.stateDir, "guests");
  mkdirSync(dir, { recursive: true });
  const target = join(dir, `${vmid}.tar`);
  copyFileSync(file, `${target}.tmp`);
  renameSync(`${target}.tmp`, target);
  return target;
}

function clone(c: Call): string {
  const { state } = c.sim;
  const source = getVm(c);
  const newid = Number(need(c, "newid"));
  checkLock(source);
  if (state.vms[newid]) throw fail(`unable to create VM ${newid}: config file already exists`);
  const template = isTemplate(source);
  const full = flag(c, "full") ?? !template;
  if (!full && !template) throw fail("linked clone feature is only available for templates");
  if (!full && (str(c, "storage") || str(c, "format")))
    throw fail(`parameter '${str(c, "storage") ? "storage" : "format"}' not allowed for linked clones`);
  // clone_vm: a target that is the local node is no target; another node needs every volume of
  // the source (CD-ROM images and the cloud-init drive too) and the `storage` asked for to be shared.
  const asked = str(c, "target");
  const target = asked && asked !== source.node && asked !== "localhost" ? asked : undefined;
  if (target && !state.nodes.includes(target)) throw fail(`no such cluster node '${target}'`);
  const storage = str(c, "storage");
  if (storage) storageOf(state, storage);
  if (storage && target && !isShared(state, storage)) throw fail(`can't clone to non-shared storage '${storage}'`);
  checkCloneStorage(c, source.config);
  if (target && !sharedVm(state, source.config))
    throw fail(`can't clone VM to node '${target}' (VM uses local storage)`);
  checkBridges(state, c.auth, source.config);
  const vm = newVm(newid, target ?? source.node, { lock: "clone" });
  state.vms[newid] = vm;
  const onError = (): void => purgeVm(state, newid);
  return c.sim.tasks.start(
    { node: source.node, type: "qmclone", id: String(source.vmid), auth: c.auth, onError },
    async (t) => {
      const config: Flat = {};
      for (const [key, value] of Object.entries(source.config)) {
        if (/^(template|lock|unused\d+|smbios1|vmgenid|meta)$/.test(key)) continue;
        const parts = parsePropString(value, "file");
        const vol = parts.file ? findVolume(state, parts.file) : undefined;
        if (DISK_KEY.test(key) && vol?.volid.includes("cloudinit")) {
          config[key] = allocateDrive(state, newid, key, `${vol.volid.split(":")[0]}:cloudinit`, t.log);
        } else if (DISK_KEY.test(key) && vol && parts.media !== "cdrom") {
          config[key] = cloneDisk(c, newid, key, parts, full, t);
          await t.step();
        } else {
          config[key] = /^net\d+$/.test(key) ? withMac(state, value, true) : value;
        }
      }
      if (Object.keys(config).every((k) => !DISK_KEY.test(k))) await t.step();
      vm.config = {
        ...config,
        ...identity(),
        name: str(c, "name") ?? `Copy-of-VM-${vmName(source).replace(/^VM /, "")}`,
      };
      if (str(c, "description")) vm.config.description = str(c, "description")!;
    },
  );
}

/** $check_storage_access_clone's $sharedvm: every volume of the config (drives, CD-ROM images) on shared storage. */
function sharedVm(state: SimState, config: Flat): boolean {
  return Object.entries(config).every(([key, value]) => {
    const file = DISK_KEY.test(key) ? parsePropString(value, "file").file : undefined;
    return !file || !file.includes(":") || isShared(state, file.split(":")[0]!);
  });
}

/** $check_storage_access_clone: Datastore.AllocateSpace on the storage each disk lands on. */
function checkCloneStorage(c: Call, config: Flat): void {
  if (c.auth.userid === "root@pam") return;
  for (const [key, value] of Object.entries(config)) {
    const parts = parsePropString(value, "file");
    if (!DISK_KEY.test(key) || parts.media === "cdrom" || !parts.file?.includes(":")) continue;
    checkPrivs(c.sim.state, c.auth, `/storage/${str(c, "storage") ?? parts.file.split(":")[0]!}`, [
      "Datastore.AllocateSpace",
    ]);
  }
}

function cloneDisk(c: Call, newid: number, key: string, parts: Flat, full: boolean, t: TaskCtx): string {
  const { state } = c.sim;
  const src = findVolume(state, parts.file!)!;
  if (!full) {
    const volid = `${src.volid}/vm-${newid}-disk-${nextDiskIndex(state, src.volid.split(":")[0]!, newid)}`;
    t.log(`create linked clone of drive ${key} (${src.volid})`);
    addVolume(state, { ...src, volid, vmid: newid, ctime: now() });
    return formatPropString({ ...parts, file: volid }, "file");
  }
  const sid = str(c, "storage") ?? src.volid.split(":")[0]!;
  t.log(`create full clone of drive ${key} (${src.volid})`);
  const spec = formatPropString(
    {
      // Fixed-point: a tiny test image's size in GiB would print as 2.3e-8, which is no size.
      file: `${sid}:${(src.size / 1024 ** 3).toFixed(9)}`,
      ...Object.fromEntries(Object.entries(parts).filter(([k]) => k !== "file" && k !== "size")),
    },
    "file",
  );
  return allocateDrive(state, newid, key, spec, t.log);
}

function template(c: Call): string {
  const vm = getVm(c);
  if (vm.status === "running") throw fail("you can't convert a VM to template if VM is running");
  checkLock(vm);
  if (isTemplate(vm) && !str(c, "disk")) throw fail("you can't convert a template to a template");
  return c.sim.tasks.start({ node: vm.node, type: "qmtemplate", id: String(vm.vmid), auth: c.auth }, async (t) => {
    await t.step();
    for (const [key, value] of Object.entries(vm.config)) {
      const parts = parsePropString(value, "file");
      const vol = DISK_KEY.test(key) && parts.file ? findVolume(c.sim.state, parts.file) : undefined;
      if (!vol || vol.volid.includes("cloudinit") || !vol.volid.includes(`vm-${vm.vmid}-disk-`)) continue;
      const base = vol.volid.replace(`vm-${vm.vmid}-disk-`, `base-${vm.vmid}-disk-`);
      t.log(`renaming volume '${vol.volid}' to '${base}'`);
      vol.volid = base;
      vm.config[key] = formatPropString({ ...parts, file: base }, "file");
    }
    vm.config.template = "1";
  });
}

function resize(c: Call): string {
  const vm = getVm(c);
  checkLock(vm, flag(c, "skiplock"));
  const disk = need(c, "disk");
  const spec = vm.config[disk];
  if (!spec) throw fail(`disk '${disk}' does not exist`);
  const parts = parsePropString(spec, "file");
  const vol = findVolume(c.sim.state, parts.file ?? "");
  if (!vol) throw fail(`volume '${parts.file}' does not exist`);
  const size = need(c, "size");
  const bytes = parseSize(size.replace(/^\+/, "")) ?? 0;
  const next = size.startsWith("+") ? vol.size + bytes : bytes;
  if (next < vol.size) throw fail("shrinking disks is not supported");
  return c.sim.tasks.start({ node: vm.node, type: "resize", id: String(vm.vmid), auth: c.auth }, async (t) => {
    await t.step();
    t.log(`Size of logical volume changed from ${formatSize(vol.size)} to ${formatSize(next)}.`);
    vol.size = next;
    vm.config[disk] = formatPropString({ ...parts, size: formatSize(next) }, "file");
  });
}

function destroy(c: Call): string {
  const { state } = c.sim;
  const vm = getVm(c);
  if (vm.status === "running") throw fail(`VM ${vm.vmid} is running - destroy failed`);
  checkLock(vm, flag(c, "skiplock"));
  if (vm.config.protection === "1") throw fail(`can't remove VM ${vm.vmid} - protection mode enabled`);
  return c.sim.tasks.start({ node: vm.node, type: "qmdestroy", id: String(vm.vmid), auth: c.auth }, async (t) => {
    await t.step();
    const volumes = ownedVolumes(state, vm.config);
    for (const base of volumes.filter((v) => v.includes(":base-"))) {
      const clone = Object.values(state.volumes)
        .flat()
        .some((v) => v.volid.startsWith(`${base}/`));
      if (clone) throw new Error(`base volume '${base.split(":")[1]}' is still in use by linked cloned`);
    }
    for (const volid of volumes) t.log(`  Logical volume "${volid.split(":")[1]}" successfully removed`);
    purgeVm(state, vm.vmid);
    delete state.firewall.vms[vm.vmid];
    if (flag(c, "purge")) purgeFromJobs(state, vm.vmid);
  });
}

function purgeFromJobs(state: SimState, vmid: number): void {
  for (const job of Object.values(state.backupJobs)) {
    if (typeof job.vmid !== "string") continue;
    job.vmid = job.vmid
      .split(",")
      .filter((id) => Number(id) !== vmid)
      .join(",");
  }
}

export const qemuLifecycleRoutes: Routes = {
  "POST /nodes/{node}/qemu": create,
  "POST /nodes/{node}/qemu/{vmid}/clone": clone,
  "POST /nodes/{node}/qemu/{vmid}/template": template,
  "PUT /nodes/{node}/qemu/{vmid}/resize": resize,
  "DELETE /nodes/{node}/qemu/{vmid}": destroy,
};
