import { describe, expect, it } from "vitest";
import type { VmPolicy } from "../../../src/backup/policy.ts";
import { vmStatus, type VmObservation } from "../../../src/backup/vm-status.ts";

const policy: VmPolicy = {
  kind: "vm",
  name: "trusted-vms",
  vms: ["trusted1", "wiki1"],
  selector: { tag: "trusted" },
  endpoint: "pve1",
  pbs: "pbs1",
  datastore: "lab",
  storage: "pbs-lab",
  schedule: "*-*-* 02:30",
  mode: "snapshot",
  retention: { daily: 7 },
  rpoSec: 86_400,
  rtoSec: 7200,
  drillEverySec: 1,
  timezone: "UTC",
  offsite: { datastore: "offsite", schedule: "04:00" },
};
const NOW = new Date("2026-12-02T08:00:00Z");
const at = (iso: string) => Date.parse(iso) / 1000;
const DAY = 86_400;
const obs = (): VmObservation => ({
  vms: [
    { name: "trusted1", vmid: 201 },
    { name: "wiki1", vmid: 202 },
  ],
  local: [
    { vmid: 201, ctime: at("2026-12-01T02:30:05Z"), size: 1000, verification: { state: "ok" } },
    { vmid: 201, ctime: at("2026-12-02T02:30:04Z"), size: 1100, verification: { state: "ok" } },
    { vmid: 202, ctime: at("2026-12-02T02:31:00Z"), size: 2000, verification: { state: "ok" } },
    { vmid: 999, ctime: at("2026-12-02T02:31:00Z") },
  ],
  offsite: { 201: [at("2026-12-02T04:00:10Z")], 202: [at("2026-12-02T04:00:12Z")] },
});

describe("vmStatus", () => {
  it("fresh, verified, copied offsite: ok", () => {
    const s = vmStatus(policy, obs(), NOW, DAY);
    expect(s.problems).toEqual([]);
    expect(s.vms.map((v) => [v.vm, v.vmid, v.snapshots, v.sizeBytes, v.verify, v.ageSec])).toEqual([
      ["trusted1", 201, 2, 1100, "ok", 5.5 * 3600 - 4],
      ["wiki1", 202, 1, 2000, "ok", 5.5 * 3600 - 60],
    ]);
    expect(s.verdict).toBe("ok");
  });

  it("names what is missing, overdue, damaged or not copied offsite", () => {
    const o = obs();
    o.local = o
      .local!.filter((b) => b.vmid !== 202)
      .map((b) => (b.ctime > at("2026-12-02T00:00:00Z") ? { ...b, verification: { state: "failed" } } : b));
    o.offsite = { 201: [at("2026-11-29T04:00:00Z")] };
    const s = vmStatus(policy, o, new Date("2026-12-03T08:00:00Z"), DAY);
    expect(s.verdict).toBe("breach");
    expect(s.problems).toEqual([
      "trusted-vms: the newest backup of trusted1 (201) is 1d5h29m56s old; its schedule allows 1d1h: check the backup job on pve1",
      "trusted-vms: the newest backup of trusted1 FAILED verification: its data is damaged; run `lab backup --run` and check the datastore",
      "trusted-vms: the offsite copy of trusted1 is 4d4h old (allowed 1d2h): check the PBS sync job",
      "trusted-vms: VM wiki1 (202) has no backup in pbs-lab: run `lab backup --run`",
      "trusted-vms: VM wiki1 has no copy in the offsite datastore offsite: check the PBS sync job",
    ]);
  });

  it("a VM not created yet, an unverified backup, and an unreachable endpoint", () => {
    const o = obs();
    o.vms[1] = { name: "wiki1" };
    o.local = o.local!.map((b) => (b.vmid === 201 ? { vmid: 201, ctime: b.ctime } : b));
    const s = vmStatus(policy, o, NOW, DAY);
    expect(s.problems).toEqual(["trusted-vms: VM wiki1 does not exist on pve1: run lab apply"]);
    expect(s.warnings).toEqual([
      "trusted-vms: the newest backup of trusted1 is not verified yet (a PBS verify job checks it)",
    ]);
    expect(
      vmStatus(policy, { vms: o.vms, local: undefined, unreachable: "pve1: connection refused" }, NOW, DAY).problems,
    ).toEqual([
      "trusted-vms: cannot list backups of trusted1: pve1: connection refused",
      "trusted-vms: cannot list backups of wiki1: pve1: connection refused",
    ]);
  });
});
