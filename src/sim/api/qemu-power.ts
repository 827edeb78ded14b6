// Power actions and the guest agent. Start/stop/shutdown check locks inside the
// worker (task error), reboot/reset of a stopped VM fail synchronously, as on PVE.
import { parsePropString } from "../../proxmox/propstring.ts";
import type { Call, Routes } from "../context.ts";
import { flag, need } from "../context.ts";
import { fail } from "../errors.ts";
import type { VmState } from "../state.ts";
import type { TaskCtx } from "../tasks.ts";
import { applyPending, checkLock, getVm, guestOf, isTemplate } from "../vm.ts";

/** Bridges a VM may use: the node's active bridges and the applied SDN vnets. */
function knownBridges(c: Call, vm: VmState): Set<string> {
  const active = c.sim.state.network[vm.node]?.active ?? {};
  const bridges = Object.values(active)
    .filter((i) => String(i.type).includes("Bridge") || i.type === "bridge")
    .map((i) => String(i.iface));
  return new Set([...bridges, ...Object.keys(c.sim.state.sdn.running.vnets)]);
}

export async function startVm(c: Call, vm: VmState, t: TaskCtx): Promise<void> {
  if (isTemplate(vm)) throw new Error("you can't start a vm if it's a template");
  checkLock(vm, flag(c, "skiplock"));
  if (vm.status === "running") throw new Error(`VM ${vm.vmid} already running`);
  applyPending(vm);
  const bridges = knownBridges(c, vm);
  for (const [key, value] of Object.entries(vm.config)) {
    const bridge = /^net\d+$/.test(key) ? parsePropString(value, "model").bridge : undefined;
    if (bridge && !bridges.has(bridge)) throw new Error(`bridge '${bridge}' does not exist`);
  }
  await t.step();
  vm.guest = await c.sim.guests.start(guestOf(vm));
  vm.status = "running";
  vm.startedAt = Date.now();
  vm.pid = 10000 + c.sim.state.counters.pid++;
}

async function stopVm(c: Call, vm: VmState, t: TaskCtx): Promise<void> {
  checkLock(vm, flag(c, "skiplock"));
  await t.step();
  if (vm.status !== "running") return;
  await c.sim.guests.stop(guestOf(vm));
  vm.status = "stopped";
  delete vm.startedAt;
  delete vm.pid;
  delete vm.guest;
}

type Action = (c: Call, vm: VmState, t: TaskCtx) => Promise<void>;

function power(type: string, action: Action, mustRun = false) {
  return (c: Call): string => {
    const vm = getVm(c);
    if (mustRun && vm.status !== "running") throw fail(`VM ${vm.vmid} not running`);
    return c.sim.tasks.start({ node: vm.node, type, id: String(vm.vmid), auth: c.auth }, (t) => action(c, vm, t));
  };
}

const reboot: Action = async (c, vm, t) => {
  await stopVm(c, vm, t);
  await startVm(c, vm, t);
};

/** The agent answers only when configured, running and the guest backend reported an address. */
function agentVm(c: Call): VmState & { guest: { ip: string } } {
  const vm = getVm(c);
  if (parsePropString(vm.config.agent ?? "0", "enabled").enabled !== "1") throw fail("No QEMU guest agent configured");
  if (vm.status !== "running") throw fail(`VM ${vm.vmid} is not running`);
  if (!vm.guest?.ip) throw fail("QEMU guest agent is not running");
  return vm as VmState & { guest: { ip: string } };
}

function interfaces(c: Call): { result: unknown[] } {
  const vm = agentVm(c);
  const mac = /=([0-9A-F:]{17})/i.exec(vm.config.net0 ?? "")?.[1]?.toLowerCase() ?? "bc:24:11:00:00:00";
  const stats = {
    "rx-bytes": 0,
    "rx-dropped": 0,
    "rx-errs": 0,
    "rx-packets": 0,
    "tx-bytes": 0,
    "tx-dropped": 0,
    "tx-errs": 0,
    "tx-packets": 0,
  };
  return {
    result: [
      {
        name: "lo",
        "hardware-address": "00:00:00:00:00:00",
        "ip-addresses": [{ "ip-address": "127.0.0.1", "ip-address-type": "ipv4", prefix: 8 }],
        statistics: stats,
      },
      {
        name: "eth0",
        "hardware-address": mac,
        "ip-addresses": [{ "ip-address": vm.guest.ip, "ip-address-type": "ipv4", prefix: vm.guest.prefix ?? 24 }],
        statistics: stats,
      },
    ],
  };
}

export const qemuPowerRoutes: Routes = {
  "POST /nodes/{node}/qemu/{vmid}/status/start": power("qmstart", startVm),
  "POST /nodes/{node}/qemu/{vmid}/status/stop": power("qmstop", stopVm),
  "POST /nodes/{node}/qemu/{vmid}/status/shutdown": power("qmshutdown", stopVm),
  "POST /nodes/{node}/qemu/{vmid}/status/reboot": power("qmreboot", reboot, true),
  "POST /nodes/{node}/qemu/{vmid}/status/reset": power("qmreset", reboot, true),
  "GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces": interfaces,
  "POST /nodes/{node}/qemu/{vmid}/agent": (c) => (agentVm(c), { result: {} }),
  "POST /nodes/{node}/qemu/{vmid}/agent/ping": (c) => (agentVm(c), { result: {} }),
  "GET /nodes/{node}/qemu/{vmid}/agent/file-read": fileRead,
};

/** guest-file-open/read/close: the content as text; PVE truncates at 16 MiB. */
async function fileRead(c: Call): Promise<{ content: string; truncated?: boolean }> {
  const vm = agentVm(c);
  const file = need(c, "file");
  if (!c.sim.guests.readFile) throw fail("Agent error: guest-file-open has been disabled");
  const content = await c.sim.guests.readFile(guestOf(vm), file).catch(() => {
    throw fail(`Agent error: Failed to open file '${file}': No such file or directory`);
  });
  return content.length > 16 << 20 ? { content: content.slice(0, 16 << 20), truncated: true } : { content };
}
