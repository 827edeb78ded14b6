// A run: load inventory + playbook, expand and validate everything (no host is
// contacted before that succeeds), then run plays in order, hosts in parallel.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { loadInventory, type Inventory } from "../inventory/inventory.ts";
import { ExitCode, LabError, badInput } from "../errors.ts";
import { BatchedFacts } from "../facts/cache.ts";
import { templateRenderer } from "../resources/template.ts";
import { loadSecrets } from "../secrets/store.ts";
import { Secret } from "../secrets/secret.ts";
import { openTransport } from "../transport/open.ts";
import type { Transport } from "../transport/types.ts";
import { runHostPlay } from "./host-run.ts";
import { throwSite } from "./throw-site.ts";
import type { Playbook } from "./playbook.ts";
import { summarize, type HostSummary, type StepResult } from "./results.ts";
import { expandPlaybook, type PlayPlan, type Selection } from "./steps.ts";
import type { HostCtx, HostInfo, Logger } from "./types.ts";

export interface Reporter {
  playStart(play: string, hosts: string[]): void;
  stepStart(host: string, id: string): void;
  step(result: StepResult): void;
  playEnd(): Promise<void>;
}

export interface RunOptions extends Selection {
  root: string;
  inventory: string;
  playbook: string;
  check: boolean;
  forks: number;
  extraVars?: Record<string, unknown>;
  signal: AbortSignal;
  reporter: Reporter;
  log: Logger;
  /** `lab check`: roles get stand-in secrets (nothing is decrypted, nothing is written). */
  secretStandIns?: boolean;
  /** Tests may swap how hosts are reached. */
  transportFor?: (host: HostInfo) => Transport;
}

export interface RunResult {
  playbook: string;
  check: boolean;
  results: StepResult[];
  hosts: Record<string, HostSummary>;
  exitCode: ExitCode;
  interrupted: boolean;
  durationMs: number;
}

export async function loadPlaybook(file: string): Promise<Playbook> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ERR_MODULE_NOT_FOUND" && String((e as Error).message).includes(resolve(file))) {
      throw badInput(`playbook not found: ${file}`, { file }, "pass a file under playbooks/, e.g. playbooks/site.ts");
    }
    throw badInput(`playbook ${file} failed to load: ${(e as Error).message}`, throwSite(e) ?? { file }, "run `lab check` for type errors; -v shows the stack trace");
  }
  const pb = mod.default as Playbook | undefined;
  if (!pb || !Array.isArray(pb.plays)) throw badInput(`playbook ${file} has no default export made with definePlaybook()`, { file }, "export default definePlaybook({ name, plays: [...] })");
  return pb;
}

/** Everything checked, nothing contacted: the inventory, the playbook and the per-host steps. */
export async function prepare(opts: RunOptions): Promise<{ inv: Inventory; plays: PlayPlan[]; playbook: Playbook; secret: (name: string) => Secret }> {
  const inv = await loadInventory({ path: opts.inventory, root: opts.root, ...(opts.extraVars ? { extraVars: opts.extraVars } : {}) });
  const playbook = await loadPlaybook(opts.playbook);
  // Decrypted up front (role expansion is synchronous); a missing key only matters if a role asks for a secret.
  const store = await loadSecrets({ root: opts.root, missingOk: true, ...(process.env.LAB_SECRETS_FILE ? { file: process.env.LAB_SECRETS_FILE } : {}) }).then((s) => ({ s }), (e: unknown) => ({ e }));
  const secret = (name: string) => {
    if (opts.secretStandIns) return new Secret(name, `lab-check-stand-in:${name}`);
    if ("e" in store) throw store.e;
    return store.s.get(name);
  };
  const plays = expandPlaybook(playbook, opts.playbook, inv, opts, { template: templateRenderer(opts.root), root: opts.root, secret, sections: inv.sections, hosts: inv.hosts });
  if (plays.every((p) => p.hosts.length === 0)) throw badInput(`no hosts matched${opts.limit ? ` --limit ${opts.limit}` : ""}`, { file: opts.playbook }, "check the play's hosts pattern and --limit");
  return { inv, plays, playbook, secret };
}

export async function run(opts: RunOptions): Promise<RunResult> {
  const t0 = performance.now();
  const { inv, plays, playbook, secret } = await prepare(opts);
  // The Proxmox client is loaded only for hosts that are VM guests.
  const guestConn = (ctx: HostCtx, host: HostInfo) =>
    import("../proxmox/resources/guest.ts").then((m) => m.guestConnector(inv.sections, secret, opts.root)(ctx, host));
  const results: StepResult[] = [];
  const transports = new Map<string, Transport>();
  const facts = new Map<string, BatchedFacts>();
  const services = new Map<string, Promise<unknown>>();
  const stopped = new Set<string>();

  const ctxFor = (name: string): HostCtx => {
    const host = inv.hosts.get(name)!;
    let t = transports.get(name);
    if (!t) transports.set(name, (t = opts.transportFor?.(host) ?? openTransport(host, () => guestConn(ctxFor(name), host))));
    let f = facts.get(name);
    if (!f) facts.set(name, (f = new BatchedFacts(t)));
    return {
      host, transport: t, facts: f, log: opts.log, project: { root: opts.root }, signal: opts.signal,
      service: <T>(key: string, make: () => Promise<T>) => {
        let s = services.get(key);
        if (!s) services.set(key, (s = make()));
        return s as Promise<T>;
      },
    };
  };

  try {
    for (const play of plays) {
      const hosts = play.hosts.filter((h) => !stopped.has(h.host));
      if (hosts.length === 0 || opts.signal.aborted) continue;
      opts.reporter.playStart(play.name, hosts.map((h) => h.host));
      await pool(hosts, opts.forks, async (hp) => {
        const ok = await runHostPlay(ctxFor(hp.host), hp, {
          play: play.name,
          check: opts.check,
          onStart: (id) => opts.reporter.stepStart(hp.host, id),
          onStep: (r) => {
            results.push(r);
            opts.reporter.step(r);
          },
        });
        if (!ok) stopped.add(hp.host);
      });
      await opts.reporter.playEnd();
    }
  } finally {
    await Promise.all([...transports.values()].map((t) => t.close().catch(() => undefined)));
    // Run-wide services (API clients) hold sockets: close those that can be closed.
    for (const s of services.values()) void s.then((v) => (v as { close?: () => void })?.close?.(), () => undefined);
  }

  const allHosts = [...new Set(plays.flatMap((p) => p.hosts.map((h) => h.host)))];
  const interrupted = opts.signal.aborted;
  const hosts = Object.fromEntries(allHosts.map((h) => [h, summarize(results, h, interrupted, facts.get(h)?.roundTrips ?? 0)]));
  const statuses = Object.values(hosts).map((h) => h.status);
  const exitCode = interrupted ? ExitCode.interrupted
    : statuses.includes("failed") ? ExitCode.failed
    : statuses.includes("unreachable") ? ExitCode.unreachable
    : ExitCode.ok;
  return { playbook: playbook.name, check: opts.check, results, hosts, exitCode, interrupted, durationMs: performance.now() - t0 };
}

/** Run `fn` over items with at most `limit` at once. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  if (limit < 1) throw new LabError("--forks must be at least 1", ExitCode.badInput);
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
