// The permission checks qemu-server makes in handler code (beyond the schema's
// `permissions.check`): per config key ($check_vm_modify_config_perm in
// PVE/API2/Qemu.pm), storage for new disks ($check_storage_access), and since
// PVE 8.0 the bridge/VLAN of every NIC (check_bridge_access ->
// PVE::GuestHelpers::check_vnet_access: SDN.Use on /sdn/zones/<zone>/<bridge>[/<tag>],
// the zone being the VNet's, or "localnetwork" for a plain Linux bridge).
import { parsePropString } from "../proxmox/propstring.ts";
import type { AuthId } from "./auth.ts";
import { fail } from "./errors.ts";
import { checkPrivs } from "./permissions.ts";
import type { Flat, SimState } from "./state.ts";
import { DISK_KEY } from "./vm.ts";

const CPU = /^(cores|cpu|cpulimit|cpuunits|numa\d*|smp|sockets|vcpus|affinity)$/;
const MEMORY = /^(memory|balloon|shares)$/;
const HWTYPE = /^(acpi|hotplug|kvm|machine|scsihw|smbios1|tablet|vga|watchdog|audio0|rng0|vmgenid)$/;
const OPTIONS =
  /^(agent|autostart|bios|description|keyboard|localtime|migrate_downtime|migrate_speed|name|onboot|ostype|protection|reboot|startdate|startup|tdf|template|tags|meta|hookscript-none)$/;
const DISK_OPTS = /^(boot|bootdisk|vmstatestorage)$/;
const CLOUDINIT = /^(cicustom|cipassword|citype|ciuser|ciupgrade|nameserver|searchdomain|sshkeys)$/;

/** $check_vm_modify_config_perm: which privilege each key needs on /vms/<vmid>. */
export function checkConfigKeys(state: SimState, auth: AuthId, vmid: number, keys: readonly string[]): void {
  if (auth.userid === "root@pam") return;
  const path = `/vms/${vmid}`;
  for (const key of keys) {
    if (DISK_KEY.test(key) || key === "cdrom" || /^(unused|serial|usb)\d+$/.test(key)) continue;
    if (CPU.test(key)) checkPrivs(state, auth, path, ["VM.Config.CPU"]);
    else if (MEMORY.test(key)) checkPrivs(state, auth, path, ["VM.Config.Memory"]);
    else if (HWTYPE.test(key)) checkPrivs(state, auth, path, ["VM.Config.HWType"]);
    else if (OPTIONS.test(key)) {
      checkPrivs(state, auth, path, ["VM.Config.Options"]);
      if (key === "startup") checkPrivs(state, auth, "/", ["Sys.Modify"]);
    } else if (key === "freeze") checkPrivs(state, auth, path, ["VM.PowerMgmt"]);
    else if (DISK_OPTS.test(key)) checkPrivs(state, auth, path, ["VM.Config.Disk"]);
    else if (/^(net|ipconfig)\d+$/.test(key)) checkPrivs(state, auth, path, ["VM.Config.Network"]);
    else if (CLOUDINIT.test(key)) checkPrivs(state, auth, path, ["VM.Config.Cloudinit", "VM.Config.Network"], true);
    else if (key === "vmstate") checkPrivs(state, auth, path, ["VM.Config.Disk", "VM.PowerMgmt"]);
    else throw fail(`only root can set '${key}' config`);
  }
}

/** Drives: VM.Config.CDROM for CD-ROMs, VM.Config.Disk otherwise; Datastore.AllocateSpace where a new disk is allocated. */
export function checkDrives(state: SimState, auth: AuthId, vmid: number, values: Flat): void {
  if (auth.userid === "root@pam") return;
  for (const [key, value] of Object.entries(values)) {
    if (!DISK_KEY.test(key)) continue;
    const drive = parsePropString(value, "file");
    checkPrivs(state, auth, `/vms/${vmid}`, [drive.media === "cdrom" ? "VM.Config.CDROM" : "VM.Config.Disk"]);
    const m = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(\d+(\.\d+)?|cloudinit)$/i.exec(drive.file ?? "");
    if (m) checkPrivs(state, auth, `/storage/${m[1]}`, ["Datastore.AllocateSpace"]);
  }
}

/** check_vnet_access for one NIC value: SDN.Use on the bridge's (or VLAN's) ACL path. */
export function checkBridge(state: SimState, auth: AuthId, value: string): void {
  if (auth.userid === "root@pam") return;
  const net = parsePropString(value, "model");
  const bridge = net.bridge;
  if (!bridge) return;
  const zone = state.sdn.running.vnets[bridge]?.zone ?? "localnetwork";
  const base = `/sdn/zones/${String(zone)}/${bridge}`;
  // A tag is checked on the VLAN's path (an ACL on the bridge propagates to it); trunks on the bridge.
  checkPrivs(state, auth, net.tag ? `${base}/${net.tag}` : base, ["SDN.Use"]);
}

/** check_bridge_access over a config or parameter set: every netN. */
export function checkBridges(state: SimState, auth: AuthId, values: Flat): void {
  for (const [key, value] of Object.entries(values)) if (/^net\d+$/.test(key)) checkBridge(state, auth, value);
}
