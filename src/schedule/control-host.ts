// The control host (where lab runs) as a host resources can be applied to: the
// local transport, its own fact cache, the run's logger, signal and services.
import { hostname } from "node:os";
import type { RunContext } from "../engine/context.ts";
import type { HostCtx, HostInfo } from "../engine/types.ts";
import { BatchedFacts } from "../facts/cache.ts";
import { LocalTransport } from "../transport/local.ts";
import type { Transport } from "../transport/types.ts";
import { currentUser } from "../user.ts";

export function controlHost(run: RunContext, transport: Transport = new LocalTransport(hostname())): HostCtx {
  const host: HostInfo = {
    name: transport.host,
    groups: ["all"],
    vars: {},
    connection: {
      type: "local",
      address: "localhost",
      port: 0,
      user: currentUser(),
      knownHosts: "/dev/null",
      become: false,
      connectTimeoutMs: 0,
    },
  };
  return {
    host,
    transport,
    facts: new BatchedFacts(transport),
    log: run.log,
    project: { root: run.root },
    signal: run.signal,
    service: (k, make) => run.service(k, make),
  };
}
