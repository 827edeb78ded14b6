// What every simulated endpoint handler gets: the validated call and the
// simulator (state, tasks, guests). Handlers return `data` or throw SimError.
import { scalarText } from "../proxmox/schema-formats.ts";
import type { HttpMethod } from "../proxmox/schema.ts";
import type { AuthId } from "./auth.ts";
import { fail } from "./errors.ts";
import type { Faults } from "./faults.ts";
import type { GuestBackend } from "./guest.ts";
import type { SimState } from "./state.ts";
import type { StatusIndex } from "./status-index.ts";
import type { Tasks } from "./tasks.ts";

export interface SimContext {
  readonly state: SimState;
  readonly tasks: Tasks;
  /** PBS worker tasks (their own list and UPID form). */
  readonly pbsTasks: Tasks;
  /** The PBS server's time zone (IANA): prune periods are local calendar periods. */
  readonly pbsTimeZone: string;
  readonly faults: Faults;
  readonly guests: GuestBackend;
  /** SHA-256 fingerprint of the simulator's certificate (PVE and PBS listeners share it). */
  readonly fingerprint: string;
  readonly stateDir: string;
  /** pvestatd's view for /cluster/resources (lags by up to one status cycle). */
  readonly statusIndex: StatusIndex;
  save(): void;
}

export interface Call {
  readonly method: HttpMethod;
  /** Concrete API path after /api2/json. */
  readonly path: string;
  /** Schema path template: /nodes/{node}/qemu/{vmid}/config. */
  readonly template: string;
  /** Query, body and path parameters, already checked against the schema. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly auth: AuthId;
  readonly sim: SimContext;
}

export type Handler = (call: Call) => unknown;
/** "GET /nodes/{node}/qemu" -> handler. */
export type Routes = Record<string, Handler>;

export function str(c: Call, key: string): string | undefined {
  const v = c.params[key];
  return v === undefined || v === null ? undefined : scalarText(v);
}

export function need(c: Call, key: string): string {
  const v = str(c, key);
  if (v === undefined) throw new Error(`schema let a call without '${key}' through`);
  return v;
}

export const int = (c: Call, key: string): number | undefined => {
  const v = str(c, key);
  return v === undefined ? undefined : Number(v);
};

/** Booleans arrive as 1/0 (form) or true/false (JSON); the schema already rejected anything else. */
export const flag = (c: Call, key: string): boolean | undefined => {
  const v = c.params[key];
  return v === undefined ? undefined : v === true || scalarText(v) === "1";
};

/** The `{node}` of the call; an unknown node fails as proxying to it would. */
export function node(c: Call): string {
  const name = need(c, "node");
  if (!c.sim.state.nodes.includes(name) && name !== "localhost") throw fail(`no such cluster node '${name}'`);
  return name === "localhost" ? c.sim.state.nodes[0]! : name;
}

/** Non-path parameters, minus the given control keys: what an update writes. */
export function settings(
  c: Call,
  pathKeys: readonly string[],
  control: readonly string[] = [],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.params)) {
    if (!pathKeys.includes(k) && !control.includes(k) && v !== undefined)
      out[k] = typeof v === "boolean" ? (v ? "1" : "0") : scalarText(v);
  }
  return out;
}

/** `delete` lists (pve-configid-list): "a,b;c d". */
export const deleteList = (c: Call): string[] => (str(c, "delete") ?? "").split(/[ ,;\0]+/).filter(Boolean);
