// Version, nodes, node status, next free VMID and the cluster resource list.
import type { Call, Routes } from "../context.ts";
import { int, node, str } from "../context.ts";
import { paramError } from "../errors.ts";
import { hasPriv } from "../permissions.ts";
import type { Item, SimState } from "../state.ts";
import { diskSize, isTemplate, vmName } from "../vm.ts";
import { nodeIp } from "./qemu-migrate.ts";
import { storageUsage } from "./storage.ts";

export const PVE_VERSION = { version: "9.1.3", release: "9.1", repoid: "e5010dce" };
const GiB = 1024 ** 3;
const NODE_MEM = 64 * GiB;
const started = Date.now();
const uptime = (): number => Math.floor((Date.now() - started) / 1000) + 3600;

function nodeItem(c: Call, name: string): Item {
  return {
    node: name,
    status: "online",
    type: "node",
    id: `node/${name}`,
    level: "",
    cpu: 0.02,
    maxcpu: 8,
    mem: 4 * GiB,
    maxmem: NODE_MEM,
    disk: 10 * GiB,
    maxdisk: 100 * GiB,
    uptime: uptime(),
    ssl_fingerprint: c.sim.fingerprint,
  };
}

export function vmItem(state: SimState, vmid: string): Item {
  const vm = state.vms[vmid]!;
  const running = vm.status === "running";
  const memory = Number(/\d+/.exec(vm.config.memory ?? "512")?.[0]) * 1024 ** 2;
  const maxdisk = Object.entries(vm.config)
    .filter(([k]) => /^(scsi|virtio|sata)0$/.test(k))
    .reduce((n, [, v]) => n + diskSize(v), 0);
  const item: Item = {
    vmid: vm.vmid,
    name: vmName(vm),
    status: vm.status,
    cpus: Number(vm.config.cores ?? 1) * Number(vm.config.sockets ?? 1),
    maxmem: memory,
    mem: running ? Math.floor(memory / 4) : 0,
    maxdisk,
    disk: 0,
    cpu: running ? 0.01 : 0,
    uptime: running && vm.startedAt ? Math.floor((Date.now() - vm.startedAt) / 1000) : 0,
    netin: 0,
    netout: 0,
    diskread: 0,
    diskwrite: 0,
  };
  if (running && vm.pid) item.pid = vm.pid;
  if (vm.config.lock) item.lock = vm.config.lock;
  if (isTemplate(vm)) item.template = 1;
  if (vm.config.tags) item.tags = vm.config.tags;
  return item;
}

function nextId(c: Call): number | string {
  const taken = (id: number): boolean => String(id) in c.sim.state.vms;
  const asked = int(c, "vmid");
  if (asked !== undefined) {
    if (taken(asked)) throw paramError({ vmid: `VM ${asked} already exists` });
    return asked;
  }
  let id = 100;
  while (taken(id)) id++;
  return id;
}

function resources(c: Call): Item[] {
  const { state } = c.sim;
  const type = str(c, "type");
  const out: Item[] = [];
  if (!type || type === "node") {
    for (const n of state.nodes) if (hasPriv(state, c.auth, `/nodes/${n}`, "Sys.Audit")) out.push(nodeItem(c, n));
  }
  if (!type || type === "vm") {
    const stats = c.sim.statusIndex.snapshot(state);
    for (const id of Object.keys(state.vms)) {
      if (!hasPriv(state, c.auth, `/vms/${id}`, "VM.Audit")) continue;
      const vm = state.vms[id]!;
      // extract_vm_stats: maxcpu there, not vmstatus's cpus.
      const {
        name: _n,
        status: _s,
        template: _t,
        uptime: _u,
        cpu: _c,
        mem: _m,
        pid: _p,
        cpus,
        ...rest
      } = vmItem(state, id);
      out.push({
        ...rest,
        maxcpu: cpus!,
        ...(stats.get(id) ?? { status: "unknown" }),
        id: `qemu/${id}`,
        type: "qemu",
        node: vm.node,
      });
    }
  }
  if (!type || type === "storage") {
    for (const n of state.nodes) {
      for (const sid of Object.keys(state.storage)) {
        if (!hasPriv(state, c.auth, `/storage/${sid}`, "Datastore.Audit")) continue;
        const u = storageUsage(state, sid);
        const cfg = state.storage[sid]!;
        out.push({
          id: `storage/${n}/${sid}`,
          type: "storage",
          storage: sid,
          node: n,
          status: "available",
          plugintype: String(cfg.type),
          content: String(cfg.content),
          shared: Number(cfg.shared ?? 0) ? 1 : 0,
          disk: u.used,
          maxdisk: u.total,
        });
      }
    }
  }
  if (!type || type === "sdn") {
    for (const n of state.nodes) {
      for (const zone of Object.keys(state.sdn.running.zones)) {
        out.push({
          id: `sdn/${n}/${zone}`,
          type: "sdn",
          sdn: zone,
          node: n,
          status: "ok",
          "zone-type": String(state.sdn.running.zones[zone]!.type),
        });
      }
    }
  }
  return out;
}

export const clusterRoutes: Routes = {
  "GET /version": () => PVE_VERSION,
  "GET /nodes": (c) =>
    c.sim.state.nodes
      .filter((n) => hasPriv(c.sim.state, c.auth, `/nodes/${n}`, "Sys.Audit"))
      .map((n) => nodeItem(c, n)),
  "GET /nodes/{node}/status": (c) => {
    node(c);
    return {
      cpu: 0.02,
      loadavg: ["0.10", "0.12", "0.09"],
      uptime: uptime(),
      pveversion: `pve-manager/${PVE_VERSION.version}/${PVE_VERSION.repoid}`,
      kversion: "Linux 6.14.8-2-pve #1 SMP PREEMPT_DYNAMIC PMX 6.14.8-2",
      "current-kernel": { sysname: "Linux", release: "6.14.8-2-pve", version: "#1 SMP", machine: "x86_64" },
      "boot-info": { mode: "efi", secureboot: 0 },
      cpuinfo: {
        cpus: 8,
        cores: 4,
        sockets: 1,
        model: "Simulated CPU",
        mhz: "3000.000",
        hvm: "1",
        flags: "",
        user_hz: 100,
      },
      memory: { total: NODE_MEM, used: 4 * GiB, free: NODE_MEM - 4 * GiB, available: NODE_MEM - 4 * GiB },
      swap: { total: 0, used: 0, free: 0 },
      rootfs: { total: 100 * GiB, used: 10 * GiB, free: 90 * GiB, avail: 90 * GiB },
      ksm: { shared: 0 },
      idle: 0,
      wait: 0,
    };
  },
  "GET /cluster/nextid": nextId,
  "GET /cluster/resources": resources,
  "GET /cluster/status": (c) => [
    {
      type: "cluster",
      id: "cluster",
      name: c.sim.state.clusterName,
      nodes: c.sim.state.nodes.length,
      quorate: 1,
      version: 1,
    },
    ...c.sim.state.nodes.map((n, i) => ({
      type: "node",
      id: `node/${n}`,
      name: n,
      nodeid: i + 1,
      online: 1,
      local: i === 0 ? 1 : 0,
      ip: nodeIp(i),
      level: "",
    })),
  ],
};
