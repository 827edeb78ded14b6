// Moving a VM to another node of the cluster (qemu-server API2/Qemu.pm `migrate_vm`,
// PVE/QemuMigrate.pm): the checks before the worker fail synchronously, the local
// disks are looked at (and copied) in the worker, which holds the `migrate` lock.
import type { Call, Routes } from "../context.ts";
import { flag, need } from "../context.ts";
import { fail, paramError } from "../errors.ts";
import { checkLock, findVolume, getVm, isShared, ownedVolumes } from "../vm.ts";

function migrate(c: Call): string {
  const { state } = c.sim;
  const vm = getVm(c);
  const target = need(c, "target");
  if (target === vm.node) throw paramError({ target: "target is local node." });
  if (!state.nodes.includes(target)) throw fail(`no such cluster node '${target}'`);
  checkLock(vm);
  const running = vm.status === "running";
  const online = flag(c, "online") ?? false;
  if (running && !online) throw fail("can't migrate running VM without --online");
  const source = vm.node;
  return c.sim.tasks.start({ node: source, type: "qmigrate", id: String(vm.vmid), auth: c.auth }, async (t) => {
    if (!running && online) t.warn("VM isn't running. Doing offline migration instead.");
    t.log(`starting migration of VM ${vm.vmid} to node '${target}' (${nodeIp(state.nodes.indexOf(target))})`);
    // scan_local_volumes: what is not on shared storage is copied (offline) or mirrored (online, with-local-disks).
    const local = ownedVolumes(state, { ...vm.config, ...vm.pending })
      .map((volid) => findVolume(state, volid)!)
      .filter((v) => !isShared(state, v.volid.split(":")[0]!));
    for (const v of local) t.log(`found local disk '${v.volid}' (attached)`);
    if (running && local.length && !flag(c, "with-local-disks"))
      throw new Error("can't live migrate attached local disks without with-local-disks option");
    // A linked clone's base lives on the source node's local storage only (message approximated).
    const linked = local.find((v) => /:base-\d+-disk-\d+\//.test(v.volid));
    if (linked)
      throw new Error(`can't migrate local disk '${linked.volid}': its base volume is not on node '${target}'`);
    vm.config.lock = "migrate";
    try {
      for (const v of local) {
        t.log(`copying local disk '${v.volid}' to node '${target}'`);
        await t.step();
        v.node = target;
      }
      await t.step();
      vm.node = target;
    } finally {
      delete vm.config.lock;
    }
    t.log(`migration finished successfully (duration 00:00:0${local.length + 1})`);
  });
}

/** The address /cluster/status gives node i. */
export const nodeIp = (i: number): string => `192.168.100.${2 + i}`;

export const qemuMigrateRoutes: Routes = {
  "POST /nodes/{node}/qemu/{vmid}/migrate": migrate,
};
