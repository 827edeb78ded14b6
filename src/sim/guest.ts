// The seam between a simulated VM and a real guest. The simulator itself only
// keeps state; a backend may boot something real (a container with sshd on its
// own 127.0.0.x address) so that lab can SSH into "VMs" end to end.

/** What a backend learns about a VM when asked to start it. */
export interface GuestVm {
  readonly vmid: number;
  readonly node: string;
  /** `name` from the config, or `VM <vmid>`. */
  readonly name: string;
  /** The running config (net0, ipconfig0, ciuser, sshkeys, ...). */
  readonly config: Readonly<Record<string, string>>;
  /** A filesystem tar (from a restored backup) the guest boots from instead of the fresh image. */
  readonly rootfs?: string;
}

export interface GuestInfo {
  /** IPv4 address the guest agent reports for eth0; absent: the agent is "not running". */
  readonly ip?: string;
  readonly prefix?: number;
}

export interface GuestBackend {
  /** Boot (or adopt, if already up) the guest. Must be idempotent: the simulator calls it again after a restart. */
  start(vm: GuestVm): Promise<GuestInfo>;
  stop(vm: GuestVm): Promise<void>;
  /** The guest agent's file-read; absent: the agent refuses it (as a guest with file access blocked does). */
  readFile?(vm: GuestVm, path: string): Promise<string>;
  /** Write the running guest's filesystem as a tar to `file` (vzdump); false when there is none to take. */
  exportFilesystem?(vm: GuestVm, file: string): Promise<boolean>;
}

/** The default: VMs are state only; the guest agent never answers. */
export const stateOnlyGuests: GuestBackend = {
  start: () => Promise.resolve({}),
  stop: () => Promise.resolve(),
};
