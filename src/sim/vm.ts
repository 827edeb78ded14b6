// QEMU VM bookkeeping shared by the qemu endpoints: config lookup, locks,
// digest, pending changes and hot-plug, MACs, disk allocation and import.
import { createHash } from "node:crypto";
import { formatPropString, formatSize, parsePropString, parseSize } from "../proxmox/propstring.ts";
import type { Call } from "./context.ts";
import { node } from "./context.ts";
import { fail } from "./errors.ts";
import type { GuestVm } from "./guest.ts";
import { pbsSnapshotVolumes } from "./pbs-store.ts";
import type { Flat, Item, SimState, VmState, Volume } from "./state.ts";

export const DISK_KEY = /^((ide|sata|scsi|virtio)\d+|efidisk0|tpmstate0)$/;
/** Keys a running VM takes at once (hotplug network,disk,usb + "fast plug" options); others wait in pending. */
const HOT_KEY =
  /^(net\d+|(scsi|virtio|sata)\d+|unused\d+|name|description|tags|onboot|protection|startup|hookscript|lock)$/;

export const confPath = (nodeName: string, vmid: number | string): string =>
  `nodes/${nodeName}/qemu-server/${vmid}.conf`;

/** The VM of `{node}`/`{vmid}`; PVE fails with "Configuration file ... does not exist" otherwise. */
export function getVm(c: Call): VmState {
  const nodeName = node(c);
  const vmid = String(c.params.vmid);
  const vm = c.sim.state.vms[vmid];
  if (!vm || vm.node !== nodeName) throw fail(`Configuration file '${confPath(nodeName, vmid)}' does not exist`);
  return vm;
}

export function checkLock(vm: VmState, skiplock = false): void {
  const lock = vm.config.lock;
  if (lock && !skiplock) throw fail(`VM is locked (${lock})`);
}

export const isTemplate = (vm: VmState): boolean => vm.config.template === "1";
export const vmName = (vm: VmState): string => vm.config.name ?? `VM ${vm.vmid}`;

/** SHA1 over the config file, pending section included: changes whenever the file does. */
export const digestOf = (vm: VmState): string =>
  createHash("sha1")
    .update(JSON.stringify([vm.config, vm.pending, vm.pendingDelete]))
    .digest("hex");

export function checkDigest(vm: VmState, digest: string | undefined): void {
  if (digest && digest !== digestOf(vm))
    throw fail("detected modified configuration - file changed by other user? Try again.");
}

/** The config with pending values applied: what GET config shows unless `current=1`. */
export function withPending(vm: VmState): Flat {
  const out = { ...vm.config, ...vm.pending };
  for (const k of vm.pendingDelete) delete out[k];
  return out;
}

export function applyPending(vm: VmState): void {
  vm.config = withPending(vm);
  vm.pending = {};
  vm.pendingDelete = [];
}

/** Set or delete one key, as pending when the VM runs and the key cannot be hot-plugged. */
export function changeKey(vm: VmState, key: string, value: string | undefined): void {
  const hot = vm.status !== "running" || HOT_KEY.test(key);
  if (hot) {
    if (value === undefined) delete vm.config[key];
    else vm.config[key] = value;
    delete vm.pending[key];
    vm.pendingDelete = vm.pendingDelete.filter((k) => k !== key);
  } else if (value === undefined) {
    delete vm.pending[key];
    if (!vm.pendingDelete.includes(key)) vm.pendingDelete.push(key);
  } else {
    vm.pending[key] = value;
    vm.pendingDelete = vm.pendingDelete.filter((k) => k !== key);
  }
}

export function nextMac(state: SimState): string {
  const n = state.counters.mac++;
  return [
    "BC",
    "24",
    "11",
    ...[16, 8, 0].map((s) => ((n >>> s) & 255).toString(16).toUpperCase().padStart(2, "0")),
  ].join(":");
}

const NIC_MODELS = ["virtio", "e1000", "e1000e", "vmxnet3", "rtl8139"];
/** `virtio,bridge=vmbr0` -> `virtio=BC:24:11:..,bridge=vmbr0`: PVE fills in a MAC. */
export function withMac(state: SimState, value: string, fresh = false): string {
  const parts = parsePropString(value, "model");
  const model = parts.model ?? NIC_MODELS.find((m) => m in parts) ?? "virtio";
  const mac = (!fresh && (parts[model] ?? parts.macaddr)) || nextMac(state);
  const rest = Object.fromEntries(
    Object.entries(parts).filter(([k]) => k !== "model" && k !== model && k !== "macaddr"),
  );
  return formatPropString({ [model]: mac, ...rest }, "__none");
}

export const guestOf = (vm: VmState): GuestVm => ({
  vmid: vm.vmid,
  node: vm.node,
  name: vmName(vm),
  config: { ...vm.config },
  ...(vm.rootfs ? { rootfs: vm.rootfs } : {}),
});

// ---- volumes ---------------------------------------------------------------

/** The volume `volid`; with `nodeName`, only as that node sees it (local storage is per node). */
export function findVolume(state: SimState, volid: string, nodeName?: string): Volume | undefined {
  const sid = volid.split(":")[0]!;
  const list = state.storage[sid]?.type === "pbs" ? pbsSnapshotVolumes(state, sid) : state.volumes[sid];
  return list?.find((v) => v.volid === volid && (nodeName === undefined || volumeOnNode(state, v, nodeName)));
}

/** Storage every node reaches: `shared` set in storage.cfg, or a type that is shared by nature (NFS, PBS). */
export function isShared(state: SimState, sid: string): boolean {
  const cfg = state.storage[sid];
  return !!cfg && (Number(cfg.shared ?? 0) === 1 || ["nfs", "cifs", "pbs", "cephfs", "rbd"].includes(String(cfg.type)));
}

/** Whether `node` sees the volume: shared storage everywhere, local storage only on the node holding it. */
export const volumeOnNode = (state: SimState, vol: Volume, nodeName: string): boolean =>
  isShared(state, vol.volid.split(":")[0]!) || (vol.node ?? state.nodes[0]) === nodeName;

export function storageOf(state: SimState, sid: string): Item {
  const cfg = state.storage[sid];
  if (!cfg) throw fail(`storage '${sid}' does not exist`);
  return cfg;
}

function requireContent(state: SimState, sid: string, content: string): void {
  const cfg = storageOf(state, sid);
  if (!String(cfg.content).split(",").includes(content))
    throw fail(`storage '${sid}' does not support content-type '${content}'`);
}

export function nextDiskIndex(state: SimState, sid: string, vmid: number): number {
  const taken = (state.volumes[sid] ?? []).map(
    (v) => new RegExp(`[:/](?:vm|base)-${vmid}-disk-(\\d+)`).exec(v.volid)?.[1],
  );
  return Math.max(-1, ...taken.filter((t): t is string => t !== undefined).map(Number)) + 1;
}

function newDiskVolid(state: SimState, sid: string, vmid: number, kind: "disk" | "cloudinit"): string {
  if (kind === "cloudinit") return `${sid}:vm-${vmid}-cloudinit`;
  const n = nextDiskIndex(state, sid, vmid);
  return ["dir", "nfs"].includes(String(storageOf(state, sid).type))
    ? `${sid}:${vmid}/vm-${vmid}-disk-${n}.qcow2`
    : `${sid}:vm-${vmid}-disk-${n}`;
}

/** Add a volume; one on local storage lands on `node` (default: the node of its VM). */
export function addVolume(state: SimState, volume: Volume, node?: string): void {
  const sid = volume.volid.split(":")[0]!;
  const at = node ?? (volume.vmid !== undefined ? state.vms[volume.vmid]?.node : undefined);
  const { node: _old, ...rest } = volume;
  (state.volumes[sid] ??= []).push(isShared(state, sid) || !at ? rest : { ...rest, node: at });
}

export function removeVolume(state: SimState, volid: string): boolean {
  const sid = volid.split(":")[0]!;
  const list = state.volumes[sid] ?? [];
  const i = list.findIndex((v) => v.volid === volid);
  if (i >= 0) list.splice(i, 1);
  return i >= 0;
}

/**
 * Turn a drive spec of create/config into a real drive: `STORAGE:SIZE` allocates,
 * `STORAGE:0,import-from=VOLID` imports, `STORAGE:cloudinit` makes the cloud-init
 * drive; existing volumes, `none` and ISO images are kept.
 */
export function allocateDrive(
  state: SimState,
  vmid: number,
  key: string,
  spec: string,
  log: (l: string) => void,
): string {
  const parts = parsePropString(spec, "file");
  const file = parts.file ?? "";
  const m = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(\d+(?:\.\d+)?|cloudinit)$/i.exec(file);
  if (!m) {
    if (file.includes(":") && file !== "none" && parts.media !== "cdrom" && !findVolume(state, file)) {
      throw new Error(`volume '${file}' does not exist`);
    }
    return spec;
  }
  const sid = m[1]!;
  requireContent(state, sid, "images");
  if (m[2] === "cloudinit") {
    const volid = newDiskVolid(state, sid, vmid, "cloudinit");
    addVolume(state, { volid, content: "images", format: "raw", size: 4 * 1024 ** 2, ctime: now(), vmid });
    log(`${key}: successfully created disk '${volid},media=cdrom'`);
    return formatPropString({ ...parts, file: volid, media: "cdrom" }, "file");
  }
  let size = Math.round(Number(m[2]) * 1024 ** 3);
  const source = parts["import-from"];
  if (source) {
    // Local storage is per node: an image downloaded to pve's `local` is not on pve2's.
    const src = findVolume(state, source, state.vms[vmid]?.node ?? state.nodes[0]!);
    if (!src && !source.startsWith("/")) throw new Error(`volume '${source}' does not exist`);
    size = src?.size ?? size;
    log(`importing disk '${source}' to VM ${vmid} ...`);
  }
  const volid = newDiskVolid(state, sid, vmid, "disk");
  addVolume(state, {
    volid,
    content: "images",
    format: volid.endsWith(".qcow2") ? "qcow2" : "raw",
    size,
    ctime: now(),
    vmid,
  });
  log(`${key}: successfully created disk '${volid},size=${formatSize(size)}'`);
  const rest = Object.fromEntries(Object.entries(parts).filter(([k]) => k !== "import-from" && k !== "file"));
  return formatPropString({ file: volid, ...rest, size: formatSize(size) }, "file");
}

/** Volumes a config refers to (disks, unused, cloud-init), without ISOs and `none`. */
export function ownedVolumes(state: SimState, config: Flat): string[] {
  return Object.entries(config)
    .filter(([k]) => DISK_KEY.test(k) || /^unused\d+$/.test(k))
    .map(([, v]) => parsePropString(v, "file").file ?? "")
    .filter((volid) => findVolume(state, volid)?.content === "images");
}

export const diskSize = (spec: string): number => parseSize(parsePropString(spec, "file").size ?? "0") ?? 0;

export const now = (): number => Math.floor(Date.now() / 1000);
