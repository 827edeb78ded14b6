// What Proxmox resources need from a client: REST calls typed from the PVE
// schema (a wrong path or parameter fails `tsc`; see ../typed.ts) and waiting
// on task UPIDs. `pveApi(client, name, log)` builds it from a ProxmoxClient.
import type { Logger } from "../../log.ts";
import type { PbsPaths } from "../api-types/pbs.ts";
import type { PvePaths } from "../api-types/pve.ts";
import type { ProxmoxClient } from "../client.ts";
import { parseUpid } from "../tasks.ts";
import type { HttpMethod } from "../schema.ts";
import { type ParamsOf, type PathsFor, type ReturnsOf, type TypedApi, typedApi } from "../typed.ts";

export interface PveApi extends TypedApi<PvePaths> {
  /** Endpoint name (inventory), for messages. */
  readonly endpoint: string;
  /** Wait for a task (no-op when the call finished synchronously: null, "OK"); throws with the task log's tail on failure. */
  wait(upid: unknown, what: string): Promise<void>;
}

/** What a GET of a path answers, as the schema describes it: `Reply<"/cluster/sdn/vnets">[number]`. */
export type Reply<P extends PathsFor<PvePaths, "GET">> = ReturnsOf<PvePaths, "GET", P>;

/** The parameters of a call, for an object built before the call: `{...} satisfies ParamsFor<"PUT", "/nodes/{node}/network/{iface}">`. */
export type ParamsFor<M extends HttpMethod, P extends PathsFor<PvePaths, M>> = ParamsOf<PvePaths, M, P>;

/** The typed PVE API over a client (its TLS pinning, retries, recorder and task waits); `close()` closes the client. */
export function pveApi(
  client: ProxmoxClient,
  endpoint: string,
  log?: Pick<Logger, "debug">,
): PveApi & { close(): void } {
  return {
    ...typedApi<PvePaths>((method, path, params) => client.envelope(method, path, params)),
    endpoint,
    close: () => client.close(),
    async wait(upid, what) {
      if (typeof upid !== "string" || !parseUpid(upid)) return;
      log?.debug(`[${endpoint}] waiting for ${what}: ${upid}`);
      await client.waitTask(upid);
    },
  };
}

/** The typed PBS API (a Proxmox Backup Server endpoint) over a client made with product "pbs". */
export interface PbsApi extends TypedApi<PbsPaths> {
  readonly endpoint: string;
  /** Wait for a PBS worker task (UPID); throws with the task log's tail on failure. */
  wait(upid: unknown, what: string): Promise<void>;
}

/** What a PBS GET answers: `PbsReply<"/config/prune/{id}">`. */
export type PbsReply<P extends PathsFor<PbsPaths, "GET">> = ReturnsOf<PbsPaths, "GET", P>;
export type PbsParamsFor<M extends HttpMethod, P extends PathsFor<PbsPaths, M>> = ParamsOf<PbsPaths, M, P>;

export function pbsApi(client: ProxmoxClient, endpoint: string): PbsApi & { close(): void } {
  return {
    ...typedApi<PbsPaths>((method, path, params) => client.envelope(method, path, params)),
    endpoint,
    close: () => client.close(),
    async wait(upid) {
      if (typeof upid === "string" && parseUpid(upid)) await client.waitTask(upid);
    },
  };
}

/** A call that failed because the object does not exist (PVE answers 500 or 404 with varying texts). */
export function isMissing(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : String(e);
  return /does not exist|not found|no such|404/i.test(msg);
}
