// A valid VM want (and its template) for tests of the VM resource: two NICs on the VLAN-aware bridge.
import type { VmWant } from "../../../src/proxmox/resources/vm.ts";

export const sampleVm: VmWant = {
  name: "iot1",
  node: "pve1",
  clone: "linked",
  storage: "local-lvm",
  cores: 1,
  memory: 512,
  template: {
    name: "debian12",
    node: "pve1",
    vmid: 9000,
    imageUrl: "http://127.0.0.1/x.qcow2",
    checksum: `sha256:${"0".repeat(64)}`,
    storage: "local-lvm",
    imageStorage: "local",
    bridge: "vmbr0",
    cores: 1,
    memory: 512,
    osType: "l26",
  },
  nics: [
    { bridge: "vmbr0", tag: 30, vlan: "iot" },
    { bridge: "vmbr0", tag: 40, vlan: "guest" },
  ],
  ip: "dhcp",
  user: "debian",
  sshKeys: [],
  tags: [],
  started: false,
  agentTimeoutSec: 1,
};
