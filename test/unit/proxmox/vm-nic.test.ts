// A VM's NICs are created with the Proxmox firewall on (firewall=1): without it the
// VLAN security groups that keep IoT and Guest out of Trusted do not apply to them.
import { describe, expect, it } from "vitest";
import { groupName } from "../../../src/proxmox/resources/firewall.ts";
import { vm, wantedConfig, type VmHave } from "../../../src/proxmox/resources/vm.ts";
import { hostCtx } from "../helpers/host-ctx.ts";
import { fakePve } from "./fake-pve.ts";
import { sampleVm } from "./sample-vm.ts";

const want = sampleVm;

describe("VM NICs", () => {
  it("the wanted config puts every NIC behind the firewall", () => {
    const cfg = wantedConfig(want);
    expect(cfg.net0).toBe("bridge=vmbr0,firewall=1,tag=30");
    expect(cfg.net1).toBe("bridge=vmbr0,firewall=1,tag=40");
  });

  it("apply creates missing NICs with firewall=1 (keeping no model: virtio), and a NIC with firewall=0 is a change", async () => {
    const api = fakePve();
    const r = vm({ pve: () => Promise.resolve(api), ids: () => Promise.reject(new Error("no clone here")) }, want);
    const cfg = wantedConfig(want);
    const have: VmHave = {
      vmid: 120,
      pending: [],
      running: false,
      firewall: { enabled: true, groups: [groupName("iot"), groupName("guest")] },
      config: {
        ...Object.fromEntries(Object.entries(cfg).map(([k, v]) => [k, String(v)])),
        net0: "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=0,tag=30",
      },
    };
    delete have.config.net1;
    const changes = r.diff(r.want, have);
    expect(changes.map((c) => c.key).sort()).toEqual(["config:net0", "config:net1"]);
    await r.apply(hostCtx(), changes, have);
    const config = api.calls.find((c) => c[0] === "POST" && c[1] === "/nodes/pve1/qemu/120/config")![2]!;
    expect(config.net0).toBe("virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1,tag=30");
    expect(config.net1).toBe("virtio,bridge=vmbr0,firewall=1,tag=40");
  });
});
