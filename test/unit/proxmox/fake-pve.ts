// A PveApi for unit tests: the real typed layer over a scripted `send` that
// records every call (method, concrete path, parameters) and every task wait.
import type { PvePaths } from "../../../src/proxmox/api-types/pve.ts";
import type { PveApi } from "../../../src/proxmox/resources/api.ts";
import { typedApi } from "../../../src/proxmox/typed.ts";

/** `[method, path]` or `[method, path, params]` (undefined parameters left out), or `["wait", what]`. */
export type RecordedPveCall = [string, string] | [string, string, Record<string, unknown>];

/** `replies["GET /cluster/resources"]` answers that GET (every time); a GET without a reply fails, anything else answers null. */
export function fakePve(replies: Readonly<Record<string, unknown>> = {}): PveApi & { calls: RecordedPveCall[] } {
  const calls: RecordedPveCall[] = [];
  const api = typedApi<PvePaths>((method, path, params) => {
    const sent = params && (JSON.parse(JSON.stringify(params)) as Record<string, unknown>);
    calls.push(sent && Object.keys(sent).length ? [method, path, sent] : [method, path]);
    const key = `${method} ${path}`;
    if (method === "GET" && !(key in replies)) return Promise.reject(new Error(`fake PVE: no reply for ${key}`));
    return Promise.resolve({ data: replies[key] ?? null, extra: {} });
  });
  return {
    ...api,
    endpoint: "fake",
    calls,
    wait(_upid, what) {
      calls.push(["wait", what]);
      return Promise.resolve();
    },
  };
}
