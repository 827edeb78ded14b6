// The pure Proxmox diffs as data (VM, template, bridge, SDN, firewall, permissions) (test/fixtures/pve-diff/<folder>/<case>.json):
// want + have in -> changes out, and the API calls apply() makes (through the
// real typed layer, over a fake that answers the reads the case lists). The
// wanted VM config and the firewall policy: input in -> value out.
import { describe, expect, it } from "vitest";
import type { Change, Resource } from "../../../src/engine/types.ts";
import { shown } from "../../../src/engine/output.ts";
import { LabError } from "../../../src/errors.ts";
import { VmidAllocator } from "../../../src/proxmox/resources/find.ts";
import {
  firewallPolicy,
  vlanFirewall,
  type FirewallWant,
  type VlanPolicy,
} from "../../../src/proxmox/resources/firewall.ts";
import { vlanBridge, type BridgeWant } from "../../../src/proxmox/resources/network.ts";
import { permissionPreflight } from "../../../src/proxmox/resources/preflight.ts";
import { backupJob, type BackupJobWant } from "../../../src/proxmox/resources/backup-job.ts";
import { pbsStorage, type PbsStorageWant } from "../../../src/proxmox/resources/pbs-storage.ts";
import { Secret } from "../../../src/secrets/secret.ts";
import { sdnVlans, type SdnWant } from "../../../src/proxmox/resources/sdn.ts";
import { vmTemplate, type TemplateWant } from "../../../src/proxmox/resources/template.ts";
import { vm, wantedConfig, type VmWant } from "../../../src/proxmox/resources/vm.ts";
import { pveSchema } from "../../../src/proxmox/schema.ts";
import { cases, folders } from "../helpers/fixtures.ts";
import { hostCtx } from "../helpers/host-ctx.ts";
import { fakePve, type RecordedPveCall } from "./fake-pve.ts";

interface DiffCase {
  about: string;
  want: unknown;
  have?: unknown;
  /** The changes, exactly and in order (`pending` only where set). */
  changes?: { key: string; summary: string; pending?: true; before?: unknown; after?: unknown }[];
  /** diff() throws a LabError containing this. */
  throws?: string;
  /** What the GETs of apply() answer: "GET /concrete/path" -> data. */
  replies?: Record<string, unknown>;
  /** The calls apply() makes, in order: [method, path, params?] or ["wait", what]. */
  calls?: RecordedPveCall[];
}

const schema = pveSchema();
type Make = (api: ReturnType<typeof fakePve>, want: never) => Resource;
const resources: Record<string, Make> = {
  vm: (api, w: VmWant) =>
    vm({ pve: () => Promise.resolve(api), ids: () => Promise.resolve(new VmidAllocator({ min: 100, max: 999 })) }, w),
  firewall: (api, w: FirewallWant) => vlanFirewall(() => Promise.resolve(api), w),
  sdn: (api, w: SdnWant) => sdnVlans(() => Promise.resolve(api), w),
  bridge: (api, w: BridgeWant) => vlanBridge(() => Promise.resolve(api), w),
  template: (api, w: TemplateWant) =>
    vmTemplate(
      () => Promise.resolve(api),
      () => Promise.resolve(new VmidAllocator({ min: 100, max: 999_999 })),
      w,
    ),
  preflight: (api, w: Record<string, string[]>) => permissionPreflight(() => Promise.resolve(api), w),
  "backup-job": (api, w: BackupJobWant) => backupJob(() => Promise.resolve(api), w),
  // Secrets are plain strings in the fixture files; the resource gets them as Secrets.
  "pbs-storage": (
    api,
    {
      password,
      encryptionKey,
      ...w
    }: Omit<PbsStorageWant, "password" | "encryptionKey"> & { password: string; encryptionKey?: string },
  ) =>
    pbsStorage(() => Promise.resolve(api), {
      ...w,
      password: new Secret("pbs_token", password),
      ...(encryptionKey ? { encryptionKey: new Secret("pbs_key", encryptionKey) } : {}),
    }),
};
const values = {
  "wanted-config": (c: { want: VmWant }) => wantedConfig(c.want),
  "firewall-policy": (c: { vlans: VlanPolicy[] }) => firewallPolicy(c.vlans),
};

it("every fixture folder under pve-diff/ is covered by a test", () => {
  expect(folders("pve-diff")).toEqual([...Object.keys(resources), ...Object.keys(values)].sort());
});

describe.each(Object.keys(resources))("%s", (kind) => {
  it.each(cases<DiffCase>("pve-diff", kind))("%s", async (_name, c) => {
    const api = fakePve(c.replies);
    const r = resources[kind]!(api, c.want as never);
    if (c.throws) {
      expect(() => r.diff(r.want, c.have)).toThrow(LabError);
      expect(() => r.diff(r.want, c.have)).toThrow(c.throws);
      return;
    }
    const changes: Change[] = r.diff(r.want, c.have);

    // before/after as --json shows them (a secret as the marker); only applying staged SDN config is an action without them.
    expect(
      changes.map((x) => ({
        key: x.key,
        summary: x.summary,
        ...(x.pending ? { pending: true } : {}),
        ...(kind === "sdn" && x.key === "apply"
          ? {}
          : { before: shown(x.before, x.sensitive), after: shown(x.after, x.sensitive) }),
      })),
    ).toEqual(c.changes ?? []);
    // diff() is pure: the same inputs give the same changes.
    expect(r.diff(r.want, c.have)).toEqual(changes);
    if (changes.length === 0) {
      expect(typeof r.ok?.(c.have)).toBe("string");
      expect(c.calls ?? []).toEqual([]);
      return;
    }
    expect(c.calls, "a case with changes lists the calls apply() makes").toBeDefined();
    await r.apply(hostCtx(), changes, c.have);
    expect(api.calls).toEqual(c.calls);
    // And each one is a request PVE accepts (path, parameter names and values, as the simulator checks them).
    for (const [method, path, params] of api.calls.filter((x) => x[0] !== "wait")) {
      expect(schema.checkRequest(method, path, params ?? {}).violations, `${method} ${path}`).toEqual([]);
    }
  });
});

describe.each(Object.keys(values) as (keyof typeof values)[])("%s", (kind) => {
  it.each(cases<{ about: string; out: unknown }>("pve-diff", kind))("%s", (_name, c) => {
    expect(values[kind](c as never)).toEqual(c.out);
  });
});
