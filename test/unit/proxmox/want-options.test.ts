// Every Proxmox resource checks its options when it is made (the playbook is
// expanded), from the TypeBox declaration that is also its type: a misspelled or
// mistyped option is exit 2 naming the option, the resource and the calling line,
// and no API is asked for.
import { describe, expect, it } from "vitest";
import { LabError } from "../../../src/errors.ts";
import { Secret } from "../../../src/secrets/secret.ts";
import { backupJob } from "../../../src/proxmox/resources/backup-job.ts";
import { vlanFirewall } from "../../../src/proxmox/resources/firewall.ts";
import { vlanBridge } from "../../../src/proxmox/resources/network.ts";
import {
  pbsDatastore,
  pbsGcSchedule,
  pbsPruneJob,
  pbsSyncJob,
  pbsVerifyJob,
} from "../../../src/proxmox/resources/pbs-jobs.ts";
import { pbsStorage } from "../../../src/proxmox/resources/pbs-storage.ts";
import { permissionPreflight } from "../../../src/proxmox/resources/preflight.ts";
import { sdnVlans } from "../../../src/proxmox/resources/sdn.ts";
import { vmTemplate } from "../../../src/proxmox/resources/template.ts";
import { vm } from "../../../src/proxmox/resources/vm.ts";
import { sampleVm } from "./sample-vm.ts";

let contacted = 0;
const api = (): Promise<never> => {
  contacted++;
  return Promise.reject(new Error("no API in this test"));
};
const vmWant = sampleVm;
const template = sampleVm.template;
const retention = { last: 3, daily: 7 };

/** Each resource with a valid want; the tests break one option at a time. */
const RESOURCES: Record<string, [(want: never) => unknown, Record<string, unknown>]> = {
  vm: [(w) => vm({ pve: api, ids: api }, w), vmWant],
  vmTemplate: [(w) => vmTemplate(api, api, w), template],
  vlanBridge: [(w) => vlanBridge(api, w), { node: "pve1", bridge: "vmbr0", vids: "10 20" }],
  sdnVlans: [(w) => sdnVlans(api, w), { zone: "lab", bridge: "vmbr0", vnets: [{ vnet: "trusted", tag: 10 }] }],
  vlanFirewall: [(w) => vlanFirewall(api, w), { ipsets: { "vlan-iot": "10.0.30.0/24" }, groups: { "vlan-iot": [] } }],
  backupJob: [
    (w) => backupJob(api, w),
    { id: "lab-vms", schedule: "02:30", storage: "pbs-lab", vms: ["iot1"], mode: "snapshot", retention },
  ],
  pbsStorage: [
    (w) => pbsStorage(api, w),
    {
      storage: "pbs-lab",
      server: "127.0.0.1",
      datastore: "lab",
      username: "lab@pbs!backup",
      password: new Secret("pw", "s3cret"),
      fingerprint: { certFile: "/x.pem" },
    },
  ],
  pbsPruneJob: [(w) => pbsPruneJob(api, w), { id: "lab-vms", store: "lab", schedule: "daily", retention }],
  pbsVerifyJob: [(w) => pbsVerifyJob(api, w), { id: "lab-vms", store: "lab", schedule: "sat 05:00" }],
  pbsSyncJob: [(w) => pbsSyncJob(api, w), { id: "off", store: "offsite", remoteStore: "lab", schedule: "04:00" }],
  pbsDatastore: [(w) => pbsDatastore(api, w), { store: "lab", path: "/mnt/datastore/lab" }],
  pbsGcSchedule: [(w) => pbsGcSchedule(api, w), { store: "lab", schedule: "daily" }],
};

function refused(make: () => unknown): LabError {
  const e = (() => {
    try {
      make();
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  if (!(e instanceof LabError)) throw new Error(`expected a LabError, got ${String(e)}`);
  expect(e.code).toBe(2);
  expect(e.where).toMatchObject({ file: import.meta.filename });
  return e;
}

describe("Proxmox resource options", () => {
  it.each(Object.keys(RESOURCES))("%s: a valid want is taken", (kind) => {
    const [make, want] = RESOURCES[kind]!;
    expect(() => make(want as never)).not.toThrow();
  });

  it.each(Object.keys(RESOURCES))("%s: an unknown option is exit 2 naming it and the resource", (kind) => {
    const [make, want] = RESOURCES[kind]!;
    const [first] = Object.keys(want);
    const typo = `${first!.slice(0, -1)}x`;
    const e = refused(() => make({ ...want, [typo]: want[first!] } as never));
    expect(e.message).toMatch(new RegExp(`^${kind}: unknown option "${typo}"`));
    expect(e.hint).toContain("src/proxmox/resources/");
    expect(contacted).toBe(0);
  });

  it("a misspelled option says which it resembles", () => {
    const e = refused(() => pbsGcSchedule(api, { store: "lab", schedul: "daily" } as never));
    expect(e.message).toBe(`pbsGcSchedule: unknown option "schedul" (did you mean "schedule"?)`);
  });

  it.each([
    ["vm", { ...vmWant, cores: "2" }, `vm: option cores: must be integer`],
    ["vm", { ...vmWant, clone: "thin" }, `vm: option clone: must be one of ["linked","full"]`],
    ["vm", { ...vmWant, nics: [{ bridge: "vmbr0", tag: 30, vlna: "iot" }] }, `vm: nics[0]: unknown option "vlna"`],
    ["vm", { ...vmWant, template: { ...template, osType: "linux" } }, `vm: option template.osType: must be one of`],
    ["vmTemplate", { ...template, checksum: "abc" }, `vmTemplate: option checksum: must match pattern`],
    [
      "backupJob",
      { ...RESOURCES.backupJob![1], retention: { dialy: 7 } },
      `backupJob: retention: unknown option "dialy"`,
    ],
    ["pbsStorage", { ...RESOURCES.pbsStorage![1], port: "8007" }, `pbsStorage: option port: must be integer`],
    ["sdnVlans", { zone: "lab", bridge: "vmbr0", vnets: [{ vnet: "x", tag: 5000 }] }, `sdnVlans: option vnets[0].tag`],
  ])("%s: a mistyped option is exit 2 naming it: %j", (kind, want, message) => {
    const e = refused(() => RESOURCES[kind]![0](want as never));
    expect(e.message).toContain(message);
  });

  it("permissionPreflight: privileges must be lists of names", () => {
    const e = refused(() => permissionPreflight(api, { "/": "VM.Allocate" } as never));
    expect(e.message).toContain("permissionPreflight: option /: must be array");
  });

  it("an option set to undefined counts as absent", () => {
    expect(() =>
      pbsPruneJob(api, { id: "x", store: "lab", schedule: "daily", retention, ns: undefined }),
    ).not.toThrow();
  });
});
