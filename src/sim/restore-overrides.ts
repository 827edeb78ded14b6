// qmrestore with config overrides, as PVE >= 7.2 does it (PVE/API2/Qemu.pm
// create_vm, PVE::QemuServer::restore_merge_config): with `archive`, a drive
// option is refused ("option conflicts with option 'archive'"); every other
// option overrides the restored config, and a NIC given without a MAC gets a
// random one (add_random_macs). `lab drill` names, marks and re-plugs a scratch
// copy this way in the one restore call.
import type { Call } from "./context.ts";
import { settings } from "./context.ts";
import { paramError } from "./errors.ts";
import type { Flat } from "./state.ts";
import { DISK_KEY } from "./vm.ts";

/** The override options of a restore call (control keys excluded); a drive among them is a parameter error. */
export function restoreOverrides(c: Call, control: readonly string[]): Flat {
  const overrides = settings(c, [], control);
  const drive = Object.keys(overrides)
    .sort()
    .find((k) => DISK_KEY.test(k));
  if (drive) throw paramError({ [drive]: "option conflicts with option 'archive'" });
  return overrides;
}

/** restore_merge_config: the backup's config with every override key replaced. */
export const mergeRestoreConfig = (restored: Flat, overrides: Flat): Flat => ({ ...restored, ...overrides });
