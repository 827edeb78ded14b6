// Everything the simulator knows, as one JSON document in <stateDir>/state.json.
// Written after every change (atomically), read back at start: a restarted
// simulator is the same "cluster".
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { GuestInfo } from "./guest.ts";

export type Flat = Record<string, string>;
export type Item = Record<string, string | number | boolean | string[]>;

export interface VmState {
  vmid: number;
  node: string;
  /** The config file: what runs now (keys like PVE writes them, all strings). */
  config: Flat;
  /** Changes waiting for the next start (hot-plug incapable while running). */
  pending: Flat;
  pendingDelete: string[];
  status: "running" | "stopped";
  startedAt?: number;
  pid?: number;
  guest?: GuestInfo;
  /** Restored from a backup that held the guest's filesystem: the tar its guest boots from. */
  rootfs?: string;
}

export interface Volume {
  volid: string;
  content: string;
  format: string;
  size: number;
  ctime: number;
  vmid?: number;
  notes?: string;
  /** A downloaded file kept under <stateDir>/files. */
  file?: string;
  /** vzdump archives remember what they hold, so restore has something to restore. */
  backup?: { config: Flat; name?: string; pbs?: { store: string; path: string } };
  /** Backups only, as PVE lists it: present (1) when protected. */
  protected?: 1;
  /** PBS: fingerprint of the encryption key. */
  encrypted?: string;
  /** The node holding it, on storage that is not shared (local, local-lvm are per node; absent: the first node). */
  node?: string;
  verification?: { state: string; upid: string };
}

export interface TaskRecord {
  upid: string;
  node: string;
  type: string;
  id: string;
  user: string;
  tokenid?: string;
  pid: number;
  pstart: number;
  starttime: number;
  status: "running" | "stopped";
  exitstatus?: string;
  endtime?: number;
  log: string[];
}

export interface AclEntry {
  path: string;
  /** user@realm, user@realm!token or @group. */
  ugid: string;
  roleid: string;
  propagate: boolean;
}

export interface RuleSet {
  rules: Item[];
  comment?: string;
}

export interface SimState {
  version: 1;
  clusterName: string;
  nodes: string[];
  /** Secret for tickets and CSRF tokens (HMAC key). */
  authKey: string;
  users: Record<string, { password?: string; enable: boolean; comment?: string }>;
  tokens: Record<string, { secret: string; privsep: boolean; comment?: string; expire?: number }>;
  acl: AclEntry[];
  /** Custom roles (user.cfg `role:` lines): roleid -> privileges. Absent in states written before they existed. */
  roles?: Record<string, string[]>;
  vms: Record<string, VmState>;
  storage: Record<string, Item>;
  /** Storage passwords (PBS token secrets) live outside storage.cfg, as on PVE. */
  storageSecrets: Record<string, string>;
  volumes: Record<string, Volume[]>;
  network: Record<string, { active: Record<string, Item>; staged: Record<string, Item> | null }>;
  sdn: { config: SdnConfig; running: SdnConfig };
  firewall: {
    groups: Record<string, RuleSet>;
    ipsets: Record<string, { comment?: string; entries: Item[] }>;
    aliases: Record<string, Item>;
    options: Item;
    /** Datacenter-level rules (absent in states written before they existed). */
    rules?: Item[];
    vms: Record<string, { options: Item; rules: Item[] }>;
  };
  backupJobs: Record<string, Item>;
  tasks: TaskRecord[];
  counters: { pid: number; pstart: number; mac: number };
  pbs: PbsState;
}

/** The PBS side: datastore.cfg, the snapshots in each datastore, prune/verify/sync jobs, GC and task records. */
export interface PbsState {
  /** datastore.cfg: name -> {path, comment, gc-schedule, prune-schedule, keep-*, ...}. */
  datastores: Record<string, Item & { path: string }>;
  snapshots: Record<string, PbsSnapshot[]>;
  jobs: { prune: Record<string, Item>; verify: Record<string, Item>; sync: Record<string, Item> };
  /** UPID of the last run of each job ("prune/<id>", "verify/<id>", "sync/<id>", "gc/<store>"). */
  lastRun: Record<string, string>;
  /** Per datastore: bytes left unreferenced by prunes since the last GC, and the last GC's counts. */
  gc: Record<string, { pendingBytes: number; last?: Record<string, number | string> }>;
  tasks: TaskRecord[];
  /** PBS's own user.cfg, token.shadow and acl.cfg (pbs-acl.ts seeds it on first use: root@pam, its token, Admin on /). */
  access?: PbsAccess;
}

export interface PbsAccess {
  users: Record<string, { password?: string; enable: boolean; comment?: string }>;
  /** user@realm!name -> secret; PBS tokens are always privilege-separated. */
  tokens: Record<string, { secret: string; enable: boolean; comment?: string; expire?: number }>;
  acl: AclEntry[];
}

/** One backup snapshot in a PBS datastore (what PVE's vzdump to a PBS storage leaves behind). */
export interface PbsSnapshot {
  "backup-type": "vm" | "ct" | "host";
  "backup-id": string;
  "backup-time": number;
  files: string[];
  size: number;
  owner: string;
  protected: boolean;
  comment?: string;
  /** The guest config inside the snapshot (qemu-server.conf.blob), for restore. */
  config: Flat;
  /** Fingerprint of the encryption key when the backup is encrypted. */
  fingerprint?: string;
  /** The last verification (PBS keeps it in the manifest's unprotected part). */
  verification?: { state: "ok" | "failed"; upid: string };
  /** Set by vzdump: the archive is complete (index.json.blob written). */
  finished?: boolean;
  /** The snapshot's files on disk (<stateDir>/pbs/<store>/<type>/<id>/<time>/) with their SHA-256: what verify checks. */
  csum?: Record<string, string>;
}

export interface SdnConfig {
  zones: Record<string, Item>;
  vnets: Record<string, Item>;
}

const GiB = 1024 ** 3;

function defaultNetwork(): Record<string, Item> {
  return {
    lo: {
      iface: "lo",
      type: "loopback",
      method: "loopback",
      method6: "manual",
      families: ["inet"],
      autostart: 1,
      active: 1,
      priority: 1,
    },
    eno1: {
      iface: "eno1",
      type: "eth",
      method: "manual",
      method6: "manual",
      families: ["inet"],
      exists: 1,
      active: 1,
      priority: 2,
    },
    vmbr0: {
      iface: "vmbr0",
      type: "bridge",
      method: "static",
      method6: "manual",
      families: ["inet"],
      autostart: 1,
      active: 1,
      cidr: "192.168.100.2/24",
      address: "192.168.100.2",
      netmask: "24",
      gateway: "192.168.100.1",
      bridge_ports: "eno1",
      bridge_stp: "off",
      bridge_fd: "0",
      priority: 3,
    },
  };
}

/** The storage every node of a multi-node cluster mounts (an NFS export): what cross-node clones and templates use. */
const sharedStorage = (): Item => ({
  storage: "shared",
  type: "nfs",
  server: "192.168.100.10",
  export: "/export/lab",
  path: "/mnt/pve/shared",
  content: "images,iso,import",
  shared: 1,
  total: 2048 * GiB,
});

/**
 * A fresh cluster, by default the one node "pve", with local (dir) and local-lvm (lvmthin) storage
 * on each node and root@pam!lab. Several nodes also get the NFS storage "shared".
 */
export function defaultState(nodes: readonly string[] = ["pve"]): SimState {
  const multi = nodes.length > 1;
  return {
    version: 1,
    clusterName: "lab-sim",
    nodes: [...nodes],
    authKey: randomBytes(32).toString("base64"),
    users: { "root@pam": { password: randomBytes(12).toString("base64url"), enable: true } },
    tokens: { "root@pam!lab": { secret: randomUUID(), privsep: false, comment: "lab simulator" } },
    acl: [],
    roles: {},
    vms: {},
    storage: {
      local: {
        storage: "local",
        type: "dir",
        path: "/var/lib/vz",
        content: "iso,vztmpl,backup,import,snippets",
        shared: 0,
        total: 100 * GiB,
      },
      "local-lvm": {
        storage: "local-lvm",
        type: "lvmthin",
        thinpool: "data",
        vgname: "pve",
        content: "images,rootdir",
        shared: 0,
        total: 500 * GiB,
      },
      ...(multi ? { shared: sharedStorage() } : {}),
    },
    storageSecrets: {},
    volumes: { local: [], "local-lvm": [], ...(multi ? { shared: [] } : {}) },
    network: Object.fromEntries(nodes.map((n) => [n, { active: defaultNetwork(), staged: null }])),
    sdn: { config: { zones: {}, vnets: {} }, running: { zones: {}, vnets: {} } },
    firewall: { groups: {}, ipsets: {}, aliases: {}, options: {}, vms: {} },
    backupJobs: {},
    tasks: [],
    counters: { pid: 0x1000, pstart: 0x4000, mac: 1 },
    pbs: emptyPbs(),
  };
}

const emptyPbs = (): PbsState => ({
  datastores: { backup: { path: "/mnt/datastore/backup", "gc-schedule": "daily" } },
  snapshots: { backup: [] },
  jobs: { prune: {}, verify: {}, sync: {} },
  lastRun: {},
  gc: {},
  tasks: [],
});

const stateFile = (dir: string): string => join(dir, "state.json");

/** `nodes` shapes a fresh state; a state on disk keeps its nodes and gets the missing ones added (a node joins). */
export function loadState(dir: string, nodes?: readonly string[]): SimState {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = stateFile(dir);
  if (!existsSync(file)) {
    const fresh = defaultState(nodes);
    saveState(dir, fresh);
    return fresh;
  }
  const state = JSON.parse(readFileSync(file, "utf8")) as SimState;
  for (const n of nodes ?? []) {
    if (state.nodes.includes(n)) continue;
    state.nodes.push(n);
    state.network[n] = { active: defaultNetwork(), staged: null };
  }
  if (state.nodes.length > 1 && !state.storage.shared) {
    state.storage.shared = sharedStorage();
    state.volumes.shared ??= [];
  }
  // States written before the PBS jobs existed get the new parts empty.
  const fresh = emptyPbs();
  state.pbs = {
    ...fresh,
    ...state.pbs,
    datastores: state.pbs?.datastores ?? fresh.datastores,
    snapshots: state.pbs?.snapshots ?? fresh.snapshots,
  };
  return state;
}

/** Atomic: a crash mid-write leaves the previous state, never half a file. */
export function saveState(dir: string, state: SimState): void {
  const file = stateFile(dir);
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 1), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}
