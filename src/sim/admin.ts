// The simulator's own endpoints, outside /api2/json (root@pam only):
//   GET/POST/DELETE /_sim/faults   list / arm ({http: [...], task: [...]}) / clear faults
//   POST /_sim/idle                wait until no task is running
//   GET /_sim/state                the state, secrets removed
import type { SimContext } from "./context.ts";
import { SimError } from "./errors.ts";
import type { HttpFault, TaskFault } from "./faults.ts";

export function adminHandler(sim: SimContext) {
  return async (method: string, path: string, params: Record<string, unknown>): Promise<unknown> => {
    switch (`${method} ${path}`) {
      case "GET /_sim/faults":
        return sim.faults.list();
      case "POST /_sim/faults":
        for (const f of (params.http ?? []) as HttpFault[]) sim.faults.addHttp(f);
        for (const f of (params.task ?? []) as TaskFault[]) sim.faults.addTask(f);
        return sim.faults.list();
      case "DELETE /_sim/faults":
        sim.faults.clear();
        return null;
      case "POST /_sim/idle":
        await sim.tasks.idle();
        return null;
      case "GET /_sim/state": {
        const { authKey: _k, users, tokens, storageSecrets: _s, ...rest } = sim.state;
        return { ...rest, users: Object.keys(users), tokens: Object.keys(tokens) };
      }
      default:
        throw new SimError(404, `no simulator endpoint ${method} ${path}`);
    }
  };
}
