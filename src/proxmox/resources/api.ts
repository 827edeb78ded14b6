// What Proxmox resources need from a client: REST calls shaped like the API
// tree, and waiting on task UPIDs. The client in src/proxmox/client.ts gives it.
export type { Params } from "../transport.ts";
import type { Params } from "../transport.ts";

export interface PveApi {
  /** Endpoint name (inventory), for messages. */
  readonly endpoint: string;
  get<T = unknown>(path: string, params?: Params): Promise<T>;
  post<T = unknown>(path: string, params?: Params): Promise<T>;
  put<T = unknown>(path: string, params?: Params): Promise<T>;
  delete<T = unknown>(path: string, params?: Params): Promise<T>;
  /** Wait for a task (no-op for null: the call finished synchronously); throws with the task log's tail on failure. */
  wait(upid: unknown, what: string): Promise<void>;
}

/** A call that failed because the object does not exist (PVE answers 500 or 404 with varying texts). */
export function isMissing(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : String(e);
  return /does not exist|not found|no such|404/i.test(msg);
}
