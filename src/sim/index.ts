// The embedded Proxmox VE simulator: an HTTPS server on loopback that answers
// the PVE API the way a real server does (schema-checked, same errors, tasks,
// locks), with its state in a JSON file, plus a small PBS side.
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { pveSchema } from "../proxmox/schema.ts";
import { adminHandler } from "./admin.ts";
import { ensureCert } from "./cert.ts";
import type { SimContext } from "./context.ts";
import { Faults } from "./faults.ts";
import { type GuestBackend, stateOnlyGuests } from "./guest.ts";
import { pbsRequestHandler } from "./pbs.ts";
import { pveRoutes } from "./routes.ts";
import { pveRequestHandler } from "./server.ts";
import { loadState, saveState, type SimState } from "./state.ts";
import { StatusIndex } from "./status-index.ts";
import { Tasks } from "./tasks.ts";
import { vmItem } from "./api/cluster.ts";
import { guestOf } from "./vm.ts";

export type { GuestBackend, GuestInfo, GuestVm } from "./guest.ts";
export type { HttpFault, TaskFault } from "./faults.ts";

export interface SimulatorOptions {
  /** Where state.json, the TLS key/cert and downloaded files live (created if missing). */
  readonly stateDir: string;
  /** PVE API port; 0 (default) picks a free one. */
  readonly port?: number;
  /**
   * Cluster nodes (default: the one node "pve"); two or more also get the shared storage "shared".
   * A state on disk keeps its nodes and gets the missing ones added.
   */
  readonly nodes?: readonly string[];
  /** Listen address; default 127.0.0.1. */
  readonly host?: string;
  /** How long each step of a worker task takes; default 50 ms. */
  readonly taskDelayMs?: number;
  /** Boots real guests for VMs; default: state only (the guest agent never answers). */
  readonly guestBackend?: GuestBackend;
  /** Replies that break the PVE schema: fail the call (default), warn, or ignore. */
  readonly checkReplies?: "error" | "warn" | "off";
  /** Delay before a 401, like PVE's ~3 s; default 0. */
  readonly authFailDelayMs?: number;
  /** PBS API port (0 = random). Default: a random port; false: no PBS listener. */
  readonly pbsPort?: number | false;
  /** The PBS server's time zone (prune periods); default: this process's. */
  readonly pbsTimeZone?: string;
  /**
   * The status cycle behind /cluster/resources' name/status/template (pvestatd: ~10 s, the default).
   * 0 makes that list current; tests that read it right after a change and are not about the lag use 0.
   */
  readonly statusCycleMs?: number;
  /** Request log lines (method, path, status; never secrets). */
  readonly log?: (line: string) => void;
}

export interface Simulator {
  /** Base URL of the PVE endpoint, e.g. https://127.0.0.1:41234 (the API is under /api2/json). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Base URL of the PBS endpoint, if started. */
  readonly pbsUrl?: string;
  /** SHA-256 fingerprint of the certificate (AA:BB:...), to pin. */
  readonly fingerprint: string;
  /** The self-signed certificate as a CA file, to pin. */
  readonly caFile: string;
  /** An API token with full rights: root@pam!lab. */
  readonly tokenId: string;
  readonly tokenSecret: string;
  /** root@pam's password, for ticket logins. */
  readonly username: string;
  readonly password: string;
  /** Arm faults in-process (same as POST /_sim/faults). */
  readonly faults: Faults;
  /** The live state (read it in tests; change it only through the API). */
  readonly state: SimState;
  /** Resolves when no task is running. */
  idle(): Promise<void>;
  /** Stop listening (running tasks end "interrupted"); guests keep running unless stopGuests. */
  stop(opts?: { stopGuests?: boolean }): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const host = options.host ?? "127.0.0.1";
  const log = options.log ?? (() => undefined);
  const cert = await ensureCert(options.stateDir, host);
  const state = loadState(options.stateDir, options.nodes);
  const save = (): void => saveState(options.stateDir, state);
  const faults = new Faults();
  const tasks = new Tasks(state, save, options.taskDelayMs ?? 50, faults);
  const pbsTasks = new Tasks(
    { tasks: state.pbs.tasks, counters: state.counters },
    save,
    options.taskDelayMs ?? 50,
    faults,
    "pbs",
  );
  const guests = options.guestBackend ?? stateOnlyGuests;
  const pbsTimeZone = options.pbsTimeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const statusIndex = new StatusIndex(options.statusCycleMs ?? 10_000, vmItem);
  const sim: SimContext = {
    state,
    tasks,
    pbsTasks,
    pbsTimeZone,
    faults,
    guests,
    fingerprint: cert.fingerprint,
    stateDir: options.stateDir,
    statusIndex,
    save,
  };
  await adoptGuests(sim, log);

  const pve = createServer(
    { key: cert.key, cert: cert.cert },
    pveRequestHandler({
      sim,
      schema: pveSchema(),
      routes: pveRoutes,
      checkReplies: options.checkReplies ?? "error",
      authFailDelayMs: options.authFailDelayMs ?? 0,
      admin: adminHandler(sim),
      log,
    }),
  );
  const port = await listen(pve, options.port ?? 0, host);
  const pbs =
    options.pbsPort === false
      ? undefined
      : createServer({ key: cert.key, cert: cert.cert }, pbsRequestHandler(sim, log));
  const pbsPort = pbs && (await listen(pbs, options.pbsPort || 0, host));
  const origin = (p: number): string => `https://${host.includes(":") ? `[${host}]` : host}:${p}`;
  const [tokenId, token] = Object.entries(state.tokens).find(([id]) => id === "root@pam!lab") ?? [];
  if (!tokenId || !token) throw new Error(`${options.stateDir}/state.json has no root@pam!lab token`);

  return {
    url: origin(port),
    host,
    port,
    ...(pbsPort ? { pbsUrl: origin(pbsPort) } : {}),
    fingerprint: cert.fingerprint,
    caFile: cert.certFile,
    tokenId,
    tokenSecret: token.secret,
    username: "root@pam",
    password: state.users["root@pam"]?.password ?? "",
    faults,
    state,
    idle: async () => {
      await tasks.idle();
      await pbsTasks.idle();
    },
    stop: async (opts) => {
      await Promise.all([tasks.shutdown(), pbsTasks.shutdown()]);
      if (opts?.stopGuests) {
        for (const vm of Object.values(state.vms)) if (vm.status === "running") await guests.stop(guestOf(vm));
      }
      save();
      await Promise.all([pve, ...(pbs ? [pbs] : [])].map(close));
    },
  };
}

/** VMs that were running before a restart get their guests back (backends adopt running ones). */
async function adoptGuests(sim: SimContext, log: (line: string) => void): Promise<void> {
  for (const vm of Object.values(sim.state.vms)) {
    if (vm.status !== "running") continue;
    try {
      vm.guest = await sim.guests.start(guestOf(vm));
    } catch (e) {
      log(
        `VM ${vm.vmid}: guest did not come back after restart (${e instanceof Error ? e.message : String(e)}); marked stopped`,
      );
      vm.status = "stopped";
      delete vm.guest;
    }
  }
  sim.save();
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
