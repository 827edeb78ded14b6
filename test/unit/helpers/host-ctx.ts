// A HostCtx for unit tests: a transport (fake by default), real BatchedFacts,
// a logger that records, and an abort signal the test controls.
import { BatchedFacts } from "../../../src/facts/cache.ts";
import type { ConnectionInfo, HostCtx, HostInfo } from "../../../src/engine/types.ts";
import type { Transport } from "../../../src/transport/types.ts";
import { FakeTransport } from "./fake-transport.ts";

export interface TestCtx extends HostCtx {
  readonly facts: BatchedFacts;
  readonly logs: string[];
  readonly abort: AbortController;
}

export function hostInfo(name = "fake", vars: Record<string, unknown> = {}, groups: string[] = ["all"]): HostInfo {
  const connection: ConnectionInfo = {
    type: "local",
    address: name,
    port: 22,
    user: "root",
    knownHosts: "/dev/null",
    become: false,
    connectTimeoutMs: 1000,
  };
  return { name, groups, vars, connection };
}

export function hostCtx(opts: { transport?: Transport; host?: HostInfo; root?: string } = {}): TestCtx {
  const transport = opts.transport ?? new FakeTransport(opts.host?.name);
  const logs: string[] = [];
  const abort = new AbortController();
  const services = new Map<string, Promise<unknown>>();
  return {
    host: opts.host ?? hostInfo(transport.host),
    transport,
    facts: new BatchedFacts(transport),
    log: { debug: (m) => logs.push(`debug: ${m}`), warn: (m) => logs.push(`warn: ${m}`) },
    logs,
    abort,
    project: { root: opts.root ?? "/nonexistent-project" },
    signal: abort.signal,
    service<T>(name: string, make: () => Promise<T>): Promise<T> {
      let s = services.get(name);
      if (!s) services.set(name, (s = make()));
      return s as Promise<T>;
    },
  };
}
