// Every PVE endpoint the simulator implements, keyed "METHOD /schema/template".
import { accessRoutes } from "./api/access.ts";
import { backupRoutes } from "./api/backup.ts";
import { clusterRoutes } from "./api/cluster.ts";
import { firewallRoutes } from "./api/firewall.ts";
import { networkRoutes } from "./api/network.ts";
import { qemuConfigRoutes } from "./api/qemu-config.ts";
import { qemuLifecycleRoutes } from "./api/qemu-lifecycle.ts";
import { qemuMigrateRoutes } from "./api/qemu-migrate.ts";
import { qemuPowerRoutes } from "./api/qemu-power.ts";
import { sdnRoutes } from "./api/sdn.ts";
import { storageRoutes } from "./api/storage.ts";
import { taskRoutes } from "./api/tasks.ts";
import type { Routes } from "./context.ts";

export const pveRoutes: Routes = {
  ...clusterRoutes,
  ...accessRoutes,
  ...qemuConfigRoutes,
  ...qemuLifecycleRoutes,
  ...qemuMigrateRoutes,
  ...qemuPowerRoutes,
  ...storageRoutes,
  ...networkRoutes,
  ...sdnRoutes,
  ...firewallRoutes,
  ...backupRoutes,
  ...taskRoutes,
};
