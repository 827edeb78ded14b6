// Permission preflight: before anything changes, compare the API token's
// effective privileges with what the plan needs, and name what is missing.
import type { Change, HostCtx, Resource } from "../../engine/types.ts";
import { ExitCode, LabError } from "../../errors.ts";
import { Type } from "@sinclair/typebox";
import type { PveApi } from "./api.ts";
import { checkWant } from "./check.ts";

/** A bridge lab puts NICs on, and the VLAN tags they carry (none: the template's untagged NIC). */
export interface BridgeUse {
  bridge: string;
  tags: number[];
  untagged: boolean;
}

/** A cluster: every node gets the bridge; VMs pinned to a node (`node:`) may have to migrate there. */
export interface ClusterUse {
  nodes: string[];
  migrate: boolean;
}

/**
 * What lab's Proxmox resources call, by ACL path (the least-privilege role in the README grants exactly these).
 * A NIC needs SDN.Use on its bridge's path in the implicit "localnetwork" zone, per VLAN tag (PVE >= 8.0).
 */
export function neededPrivileges(
  node: string,
  storages: string[],
  bridges: BridgeUse[] = [],
  cluster: ClusterUse = { nodes: [node], migrate: false },
): Record<string, string[]> {
  const sdnUse = bridges.flatMap((b) => [
    ...(b.untagged ? [`/sdn/zones/localnetwork/${b.bridge}`] : []),
    ...b.tags.map((t) => `/sdn/zones/localnetwork/${b.bridge}/${t}`),
  ]);
  return {
    "/": ["Sys.Audit", "Sys.Modify"], // firewall IP sets, groups, options
    ...Object.fromEntries(
      [...new Set([node, ...cluster.nodes])].map((n) => [`/nodes/${n}`, ["Sys.Audit", "Sys.Modify"]]), // bridge: stage and apply network config
    ),
    "/sdn": ["SDN.Audit", "SDN.Allocate"],
    "/vms": [
      "VM.Audit",
      "VM.Allocate",
      "VM.Clone",
      "VM.Config.CDROM",
      "VM.Config.CPU",
      "VM.Config.Cloudinit",
      "VM.Config.Disk",
      "VM.Config.HWType",
      "VM.Config.Memory",
      "VM.Config.Network",
      "VM.Config.Options",
      "VM.PowerMgmt",
      // The agent: guest IP, and the SSH host key read to pin it (either privilege will do, as on PVE).
      "VM.GuestAgent.Audit|VM.GuestAgent.Unrestricted",
      "VM.GuestAgent.FileRead|VM.GuestAgent.Unrestricted",
      ...(cluster.migrate ? ["VM.Migrate"] : []),
    ],
    ...Object.fromEntries(
      storages.map((s) => [
        `/storage/${s}`,
        ["Datastore.Audit", "Datastore.AllocateSpace", "Datastore.AllocateTemplate"],
      ]),
    ),
    ...Object.fromEntries(sdnUse.map((p) => [p, ["SDN.Use"]])),
  };
}

/**
 * What the pbs-backup role and `lab backup` / `lab drill` call: the `pbs` storage (POST/PUT check /storage,
 * GET its own path), the vzdump job (/cluster/backup), vzdump with prune-backups, and restores of the VMs.
 */
export function backupPrivileges(storages: string[]): Record<string, string[]> {
  return {
    "/": ["Sys.Audit", "Sys.Modify"],
    "/storage": ["Datastore.Allocate"],
    ...Object.fromEntries(
      storages.map((s) => [`/storage/${s}`, ["Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.Audit"]]),
    ),
    "/vms": ["VM.Audit", "VM.Backup"],
  };
}

type Perms = Record<string, Record<string, number>>;

/**
 * Effective privileges at a path. The values of /access/permissions are the propagate flag, not
 * "granted": at the path itself every listed privilege counts; from a parent path listed instead
 * (the deepest one), only those that propagate.
 */
export function effective(perms: Perms, path: string): Set<string> {
  if (perms[path]) return new Set(Object.keys(perms[path]));
  const holders = Object.keys(perms)
    .filter((p) => p === "/" || path.startsWith(`${p}/`))
    .sort((a, b) => b.length - a.length);
  const privs = perms[holders[0] ?? ""] ?? {};
  return new Set(
    Object.entries(privs)
      .filter(([, v]) => Number(v) === 1)
      .map(([k]) => k),
  );
}

export function missingPrivileges(perms: Perms, needed: Record<string, string[]>): string[] {
  const out: string[] = [];
  for (const [path, privs] of Object.entries(needed)) {
    const have = effective(perms, path);
    // "A|B": any one of them (PVE's "any" permission checks).
    const lacking = privs.filter((p) => !p.split("|").some((alt) => have.has(alt)));
    if (lacking.length) out.push(`${path}: ${lacking.join(", ")}`);
  }
  return out;
}

/** ACL path -> the privileges lab needs there. */
const Needed = Type.Record(Type.String(), Type.Array(Type.String({ minLength: 1 })));

export function permissionPreflight(
  pve: (ctx: HostCtx) => Promise<PveApi>,
  needed: Record<string, string[]>,
  id = "pve:preflight/permissions",
): Resource<Record<string, string[]>, Perms> {
  checkWant("permissionPreflight", Needed, needed);
  return {
    id,
    want: needed,
    async read(ctx) {
      const api = await pve(ctx);
      const paths = Object.keys(needed);
      const perms: Perms = {};
      // Ask per path: the answer is then the effective set there, inherited ACLs included.
      // The schema says only "Map of path => (Map of privilege => propagate boolean)".
      for (const path of paths) Object.assign(perms, (await api.get("/access/permissions", { path })) as Perms);
      return perms;
    },
    diff(want, have): Change[] {
      const missing = missingPrivileges(have, want);
      if (missing.length) {
        throw new LabError(
          `the API token lacks privileges this playbook needs:\n    ${missing.join("\n    ")}`,
          ExitCode.failed,
          {},
          "grant them (see README: the LabAutomation role) or use a token with privsep=0 of a user that has them; nothing was changed",
        );
      }
      return [];
    },
    apply: () => Promise.resolve(),
    ok: () => "the token has every privilege the plan needs",
  };
}
