// A VM drill's pure decisions: which backups (newest; a seeded random older one
// when due), the scratch VMID, the marking that leftovers are found by, and every
// NIC moved to the drill VLAN without its MAC.
import { describe, expect, it } from "vitest";
import {
  drillRunOf,
  isDrillCopy,
  macsOf,
  nicsOffVlan,
  nicsOnVlan,
  olderDue,
  planVmRestores,
  scratchMarking,
  scratchVmid,
  seedOf,
  seededRandom,
} from "../../../src/drill/vm-plan.ts";

const b = (ctime: number) => ({ volid: `pbs:backup/vm/200/${new Date(ctime * 1000).toISOString()}`, ctime });
const backups = [b(1000), b(4000), b(2000), b(3000)];

describe("VM drill: which backups", () => {
  it("the newest always; an older one only when asked, picked from the older retained ones by the seed", () => {
    expect(planVmRestores(backups, false, 1)).toEqual([{ which: "newest", backup: b(4000) }]);
    const picks = new Set<number>();
    for (let seed = 0; seed < 40; seed++) {
      const [newest, older, ...rest] = planVmRestores(backups, true, seed);
      expect(newest).toEqual({ which: "newest", backup: b(4000) });
      expect(rest).toEqual([]);
      expect(older).toMatchObject({ which: "older", seed, candidates: 3 });
      expect(older!.backup.ctime).toBeLessThan(4000);
      picks.add(older!.backup.ctime);
      // The same seed picks the same backup again (the report's seed reproduces it).
      expect(planVmRestores([...backups].reverse(), true, seed)[1]).toEqual(older);
    }
    expect([...picks].sort()).toEqual([1000, 2000, 3000]);
  });

  it("no backup: nothing; one backup: no older one to pick", () => {
    expect(planVmRestores([], true, 1)).toEqual([]);
    expect(planVmRestores([b(5)], true, 1)).toEqual([{ which: "newest", backup: b(5) }]);
  });

  it("seeds: stable per text, different per run; the PRNG is deterministic and in [0, 1)", () => {
    expect(seedOf("20261201T213000Z-42:apps")).toBe(seedOf("20261201T213000Z-42:apps"));
    expect(seedOf("20261201T213000Z-42:apps")).not.toBe(seedOf("20261201T213000Z-43:apps"));
    const a = seededRandom(7),
      c = seededRandom(7);
    const xs = Array.from({ length: 100 }, () => a());
    expect(xs).toEqual(Array.from({ length: 100 }, () => c()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it("the older restore is due when forced, never done, or older than older_every", () => {
    const now = new Date("2026-12-01T00:00:00Z");
    const day = 86400;
    expect(olderDue(false, undefined, 90 * day, now)).toBe(true);
    expect(olderDue(false, new Date("2026-11-01T00:00:00Z"), 90 * day, now)).toBe(false);
    expect(olderDue(true, new Date("2026-11-01T00:00:00Z"), 90 * day, now)).toBe(true);
    expect(olderDue(false, new Date("2026-08-01T00:00:00Z"), 90 * day, now)).toBe(true);
  });
});

describe("VM drill: scratch VMID and marking", () => {
  it("takes the highest free VMID of the range (lab apply allocates from the bottom)", () => {
    expect(scratchVmid({ min: 200, max: 299 }, new Set([200, 201]))).toBe(299);
    expect(scratchVmid({ min: 200, max: 299 }, new Set([299, 298]))).toBe(297);
    expect(scratchVmid({ min: 200, max: 201 }, new Set([200, 201]))).toBeUndefined();
  });

  it("marks a copy with the tag and a description marker naming the run; only both together make a leftover", () => {
    const m = scratchMarking({
      run: "20261201T213000Z-42",
      target: "apps",
      vm: "app1",
      volid: "pbs:backup/vm/200/2026-12-01T02:30:00Z",
    });
    expect(m.name).toBe("lab-drill-app1");
    expect(m.tags).toBe("lab-drill");
    expect(m.description.split("\n")[0]).toBe("lab:lab-drill=20261201T213000Z-42;target=apps;source=app1");
    expect(isDrillCopy(m.tags, m.description)).toBe(true);
    expect(isDrillCopy("lab;lab-drill", m.description)).toBe(true);
    expect(drillRunOf(m.description)).toBe("20261201T213000Z-42");
    expect(isDrillCopy("lab-drill", "someone's VM")).toBe(false);
    expect(isDrillCopy("lab", m.description)).toBe(false);
    expect(isDrillCopy(undefined, undefined)).toBe(false);
    expect(isDrillCopy("lab-drill-old", m.description)).toBe(false);
    expect(scratchMarking({ run: "r", target: "t", vm: "x".repeat(80), volid: "v" }).name).toHaveLength(63);
  });
});

describe("VM drill: NICs onto the drill VLAN", () => {
  const prod = {
    net0: "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1,tag=10",
    net1: "e1000=BC:24:11:00:00:02,bridge=vmbr1,tag=20,trunks=20;30",
    net2: "virtio,bridge=vmbr0",
    name: "app1",
    scsi0: "local-lvm:vm-200-disk-0,size=8G",
  };

  it("every NIC: its model and bridge kept, its MAC and trunks dropped (Proxmox assigns a fresh MAC), the drill tag set", () => {
    expect(nicsOnVlan(prod, 40)).toEqual({
      net0: "virtio,bridge=vmbr0,firewall=1,tag=40",
      net1: "e1000,bridge=vmbr1,tag=40",
      net2: "virtio,bridge=vmbr0,tag=40",
    });
  });

  it("finds NICs off the drill VLAN and every MAC", () => {
    expect(nicsOffVlan(prod, 40)).toEqual(["net0", "net1", "net2"]);
    expect(nicsOffVlan({ ...prod, ...nicsOnVlan(prod, 40) }, 40)).toEqual([]);
    expect(
      nicsOffVlan(
        { net0: "virtio=AA:BB:CC:DD:EE:FF,bridge=vmbr0,tag=40", net3: "virtio=AA:BB:CC:DD:EE:00,bridge=vmbr0" },
        40,
      ),
    ).toEqual(["net3"]);
    expect(macsOf(prod)).toEqual(["BC:24:11:00:00:01", "BC:24:11:00:00:02"]);
    expect(macsOf({ net0: "model=virtio,macaddr=bc:24:11:00:00:09,bridge=vmbr0" })).toEqual(["BC:24:11:00:00:09"]);
  });
});
