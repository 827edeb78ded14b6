// VM list, config read/update (sync PUT, async POST), pending changes, status.
import { createHash } from "node:crypto";
import { parsePropString } from "../../proxmox/propstring.ts";
import { pveSchema } from "../../proxmox/schema.ts";
import type { Call, Routes } from "../context.ts";
import { deleteList, flag, node, settings, str } from "../context.ts";
import { paramError } from "../errors.ts";
import { hasPriv } from "../permissions.ts";
import type { VmState } from "../state.ts";
import {
  DISK_KEY,
  allocateDrive,
  changeKey,
  checkDigest,
  checkLock,
  digestOf,
  findVolume,
  getVm,
  isTemplate,
  removeVolume,
  withMac,
  withPending,
} from "../vm.ts";
import { checkBridges, checkConfigKeys, checkDrives } from "../qemu-perms.ts";
import { vmItem } from "./cluster.ts";

/** Keys of a create/update call that are instructions, not config. */
export const CONTROL_KEYS = [
  "node",
  "vmid",
  "delete",
  "revert",
  "digest",
  "skiplock",
  "background_delay",
  "force",
  "start",
  "archive",
  "storage",
  "unique",
  "pool",
  "live-restore",
  "bwlimit",
  "import-working-storage",
  "ha-managed",
];

const hidePassword = (config: Record<string, string>): Record<string, string> =>
  config.cipassword ? { ...config, cipassword: "**********" } : config;

/** qemu-server's parse_vm_config runs check_type: integers, numbers and booleans come back as JSON numbers. */
function typedConfig(config: Record<string, string>): Record<string, string | number> {
  const schema = pveSchema();
  return Object.fromEntries(
    Object.entries(config).map(([k, v]) => {
      const type = schema.replyProperty("/nodes/{node}/qemu/{vmid}/config", "GET", k)?.type;
      return [
        k,
        (type === "integer" || type === "number" || type === "boolean") && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v,
      ];
    }),
  );
}

function readConfig(c: Call): Record<string, string | number> {
  const vm = getVm(c);
  const config = flag(c, "current") ? vm.config : withPending(vm);
  return { ...typedConfig(hidePassword(config)), digest: digestOf(vm) };
}

function pending(c: Call): Record<string, unknown>[] {
  const vm = getVm(c);
  const keys = new Set([...Object.keys(vm.config), ...Object.keys(vm.pending), ...vm.pendingDelete]);
  return [...keys].sort().map((key) => ({
    key,
    ...(key in vm.config ? { value: hidePassword(vm.config)[key] } : {}),
    ...(key in vm.pending ? { pending: hidePassword(vm.pending)[key] } : {}),
    ...(vm.pendingDelete.includes(key) ? { delete: 1 } : {}),
  }));
}

/** First free unusedN. */
const freeUnused = (vm: VmState): string => {
  let i = 0;
  while (`unused${i}` in vm.config) i++;
  return `unused${i}`;
};

/** A disk removed from its slot is kept as unusedN (its volume stays); removing unusedN destroys it. */
function detach(c: Call, vm: VmState, key: string): void {
  const volid = parsePropString(vm.config[key] ?? "", "file").file ?? "";
  const vol = findVolume(c.sim.state, volid);
  if (/^unused\d+$/.test(key)) removeVolume(c.sim.state, volid);
  else if (DISK_KEY.test(key) && vol?.content === "images" && !volid.includes("cloudinit"))
    vm.config[freeUnused(vm)] = volid;
  else if (volid.includes("cloudinit")) removeVolume(c.sim.state, volid);
}

/** update_vm's permission checks, made before the worker forks (a 403 is synchronous for POST too). */
export function checkUpdatePerms(c: Call, vm: VmState): void {
  const { state } = c.sim;
  const values = settings(c, [], CONTROL_KEYS);
  const deletes = deleteList(c);
  checkConfigKeys(state, c.auth, vm.vmid, [...Object.keys(values), ...deletes]);
  checkDrives(state, c.auth, vm.vmid, values);
  checkBridges(state, c.auth, values);
  // Removing a NIC needs access to the bridge it was on.
  checkBridges(
    state,
    c.auth,
    Object.fromEntries(
      deletes.filter((k) => /^net\d+$/.test(k) && withPending(vm)[k]).map((k) => [k, withPending(vm)[k]!]),
    ),
  );
}

/** qemu-server's update_vm: one code path for PUT (sync) and POST (in a worker). */
export function updateConfig(c: Call, vm: VmState, log: (line: string) => void): void {
  checkDigest(vm, str(c, "digest"));
  checkLock(vm, flag(c, "skiplock"));
  const values = settings(c, [], CONTROL_KEYS);
  const deletes = deleteList(c);
  const both = deletes.filter((k) => k in values);
  if (both.length)
    throw paramError(Object.fromEntries(both.map((k) => [k, `unable to delete '${k}' - option is also set`])));
  if (Object.keys(values).length)
    log(
      `update VM ${vm.vmid}: ${Object.entries(values)
        .map(([k, v]) => `-${k} ${k === "cipassword" ? "<hidden>" : v}`)
        .join(" ")}`,
    );
  if (deletes.length) log(`update VM ${vm.vmid}: -delete ${deletes.join(",")}`);
  for (const key of deletes) {
    if (vm.status !== "running" || !DISK_KEY.test(key)) detach(c, vm, key);
    changeKey(vm, key, undefined);
  }
  for (const key of (str(c, "revert") ?? "").split(/[ ,;]+/).filter(Boolean)) {
    delete vm.pending[key];
    vm.pendingDelete = vm.pendingDelete.filter((k) => k !== key);
  }
  for (const [key, given] of Object.entries(values)) {
    let value = given;
    if (DISK_KEY.test(key)) {
      value = allocateDrive(c.sim.state, vm.vmid, key, value, log);
      const before = parsePropString(vm.config[key] ?? "", "file").file;
      if (before && before !== parsePropString(value, "file").file) detach(c, vm, key);
    }
    if (/^net\d+$/.test(key)) value = withMac(c.sim.state, value);
    if (key === "cipassword") value = `$5$sim$${createHash("sha256").update(value).digest("base64")}`;
    changeKey(vm, key, value);
  }
}

function status(c: Call): Record<string, unknown> {
  const vm = getVm(c);
  const running = vm.status === "running";
  const agent = parsePropString(vm.config.agent ?? "0", "enabled").enabled;
  return {
    ...vmItem(c.sim.state, String(vm.vmid)),
    qmpstatus: vm.status,
    ha: { managed: 0 },
    ...(agent === "1" ? { agent: 1 } : {}),
    ...(running ? { "running-qemu": "10.0.2", "running-machine": "pc-i440fx-10.0+pve0" } : {}),
    ...(isTemplate(vm) ? { template: 1 } : {}),
  };
}

export const qemuConfigRoutes: Routes = {
  "GET /nodes/{node}/qemu": (c) => {
    const n = node(c);
    return Object.values(c.sim.state.vms)
      .filter((vm) => vm.node === n && hasPriv(c.sim.state, c.auth, `/vms/${vm.vmid}`, "VM.Audit"))
      .map((vm) => vmItem(c.sim.state, String(vm.vmid)));
  },
  "GET /nodes/{node}/qemu/{vmid}": (c) => (
    getVm(c),
    ["config", "pending", "status", "clone", "template", "resize", "agent", "firewall"].map((subdir) => ({ subdir }))
  ),
  "GET /nodes/{node}/qemu/{vmid}/config": readConfig,
  "GET /nodes/{node}/qemu/{vmid}/pending": pending,
  "PUT /nodes/{node}/qemu/{vmid}/config": (c) => {
    checkUpdatePerms(c, getVm(c));
    updateConfig(c, getVm(c), () => undefined);
    return null;
  },
  "POST /nodes/{node}/qemu/{vmid}/config": (c) => {
    const vm = getVm(c);
    checkUpdatePerms(c, vm);
    return c.sim.tasks.start({ node: vm.node, type: "qmconfig", id: String(vm.vmid), auth: c.auth }, (t) =>
      updateConfig(c, vm, t.log),
    );
  },
  "GET /nodes/{node}/qemu/{vmid}/status": (c) => (
    getVm(c),
    [{ subdir: "current" }, { subdir: "start" }, { subdir: "stop" }]
  ),
  "GET /nodes/{node}/qemu/{vmid}/status/current": status,
};
