// backups/drills.yaml's `vms:` section: every VM target of the policy is drilled
// (on the Lab VLAN by default), its probes validated against the target and the
// inventory with file:line:col (exit 2), never onto a VM's production VLAN.
import { describe, expect, it } from "vitest";
import { resolvePolicy } from "../../../src/backup/policy.ts";
import { loadDrills, drillsFail, validDrills } from "../../../src/drill/definitions.ts";
import { resolveVmDrills } from "../../../src/drill/vm-definitions.ts";
import { ExitCode, LabError } from "../../../src/errors.ts";
import { parseYaml } from "../../../src/inventory/yaml-source.ts";
import { inventoryOf } from "../helpers/inventory.ts";

const inv = inventoryOf({
  "lab.yaml": `
proxmox:
  pve1: { url: "https://127.0.0.1:8006", node: pve, token_id: "root@pam!lab", token_secret: t, fingerprint: "${"AA:".repeat(31)}AA", vmid_range: { min: 200, max: 299 }, storage: fast }
pbs:
  pbs1: { url: "https://127.0.0.1:8007", token_id: "root@pam!lab", token_secret: t, fingerprint: "${"AA:".repeat(31)}AA" }
vlans:
  Trusted: { tag: 10, subnet: 10.10.10.0/24 }
  Lab: { tag: 40, subnet: 10.10.40.0/24, isolated: true }
  Scratch: { tag: 90, subnet: 10.10.90.0/24, isolated: true }
templates:
  debian-12: { endpoint: pve1, image_url: "http://127.0.0.1/x.qcow2", checksum: "sha256:00", vmid: 9000 }
vms:
  app1: { template: debian-12, vlan: Trusted, tags: [apps] }
  app2: { template: debian-12, vlan: Trusted, tags: [apps] }
  lab1: { template: debian-12, vlan: Lab, tags: [lab] }
hosts:
  g-app1: { vm: app1, user: lab, become: true, port: 2222 }
`,
});
const policy = resolvePolicy(
  parseYaml(
    "/p/backups/policy.yaml",
    `
defaults: { rpo: 1d, drill_every: 90d, timezone: UTC }
vms:
  apps: { select: { tag: apps }, endpoint: pve1, pbs: pbs1, datastore: backup, storage: pbs, schedule: "*-*-* 02:30", retention: { last: 3 } }
  labs: { select: { vms: [lab1] }, endpoint: pve1, pbs: pbs1, datastore: backup, storage: pbs, schedule: "*-*-* 02:30", retention: { last: 3 }, drill_every: 30d }
`,
  ),
  inv,
);
const vmDrills = (text: string) => {
  const src = parseYaml("/p/backups/drills.yaml", text);
  return resolveVmDrills(validDrills(src), drillsFail(src), policy, inv);
};
const fails = (text: string): LabError => {
  try {
    vmDrills(text);
  } catch (e) {
    if (e instanceof LabError) return e;
    throw e;
  }
  throw new Error("no error");
};
const LABS_ELSEWHERE = "vms:\n  labs: { vlan: Scratch }\n";

describe("VM drill definitions", () => {
  it("every VM target, its VMs, the Lab VLAN by default, older_every = drill_every, the endpoint's storage and vmid_range", () => {
    const [apps, labs] = vmDrills(LABS_ELSEWHERE);
    expect(apps).toMatchObject({
      endpoint: "pve1",
      node: "pve",
      storage: "fast",
      vmidRange: { min: 200, max: 299 },
      vlan: { name: "Lab", tag: 40 },
      olderEverySec: 90 * 86400,
      agentTimeoutSec: 300,
    });
    expect(apps!.vms.map((v) => [v.name, v.productionVlans, v.login?.user ?? null, v.probes.length])).toEqual([
      ["app1", ["Trusted"], "lab", 0],
      ["app2", ["Trusted"], null, 0],
    ]);
    expect(labs).toMatchObject({ vlan: { name: "Scratch", tag: 90 }, olderEverySec: 30 * 86400 });
  });

  it("probes go to every VM of the target, or to the one they name; durations are read", () => {
    const [apps] = vmDrills(
      `${LABS_ELSEWHERE.replace("vms:\n", 'vms:\n  apps:\n    older_every: 180d\n    agent_timeout: 2m\n    probes:\n      - { name: health, http: "http://{address}:8080/health" }\n      - { name: data, ssh: "cat /root/x", vm: app1 }\n')}`,
    );
    expect(apps!.olderEverySec).toBe(180 * 86400);
    expect(apps!.agentTimeoutSec).toBe(120);
    expect(apps!.vms.map((v) => v.probes.map((p) => p.name))).toEqual([["health", "data"], ["health"]]);
  });

  it("a VM whose production VLAN is the drill VLAN is bad input: a copy never joins production's VLAN", () => {
    const e = fails("vms:\n  apps: {}\n");
    expect(e.code).toBe(ExitCode.badInput);
    expect(e.message).toBe(
      "drill for labs: VM lab1 is on Lab in production; a drill copy must never join its production VLAN",
    );
    expect(fails("vms:\n  labs: { vlan: Lab }\n").where).toMatchObject({
      file: "/p/backups/drills.yaml",
      line: 2,
      col: 17,
    });
  });

  it("names what is wrong, where: unknown target, unknown VLAN, a probe's VM outside the target, an SSH probe without a login, a bad probe", () => {
    expect(fails(`${LABS_ELSEWHERE}  db: {}\n`).message).toBe('drill for "db": no such VM target in the backup policy');
    expect(fails("vms:\n  labs: { vlan: Nope }\n").message).toBe(
      'drill for labs: VLAN "Nope" is not in the inventory\'s vlans:',
    );
    const other = fails(`${LABS_ELSEWHERE}  apps:\n    probes:\n      - { name: x, ssh: "true", vm: lab1 }\n`);
    expect(other.message).toBe('drill for apps: probe "x" names VM "lab1", which the target does not back up');
    expect(other.where).toMatchObject({ line: 5, col: 37 });
    const login = fails(`${LABS_ELSEWHERE}  apps:\n    probes:\n      - { name: stack, compose: wiki }\n`);
    expect(login.message).toBe(
      'drill for apps: probe "stack" logs into app2\'s guest, but no inventory host has vm: app2',
    );
    const bad = fails(`${LABS_ELSEWHERE}  apps:\n    probes:\n      - { name: x, http: "ftp://x" }\n`);
    expect(bad.code).toBe(ExitCode.badInput);
    expect(bad.where).toMatchObject({ file: "/p/backups/drills.yaml", line: 5 });
  });

  it("loadDrills: without a drills file, every target is drilled anyway", async () => {
    const noLab = resolvePolicy(
      parseYaml(
        "/p/backups/policy.yaml",
        `
defaults: { rpo: 1d, timezone: UTC }
vms:
  apps: { select: { tag: apps }, endpoint: pve1, pbs: pbs1, datastore: backup, storage: pbs, schedule: "*-*-* 02:30", retention: { last: 3 } }
`,
      ),
      inv,
    );
    const all = await loadDrills({ root: "/nonexistent-project", policy: noLab, inventory: inv });
    expect(all.postgres).toEqual([]);
    expect(all.vms.map((d) => [d.target.name, d.vms.length, d.vlan.name])).toEqual([["apps", 2, "Lab"]]);
  });
});
