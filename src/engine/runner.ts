// A run: expand and validate the playbook against the context's inventory (no
// host is contacted before that succeeds), then run plays in order, hosts in parallel.
import { dirname, resolve } from "node:path";
import { checkPolicy } from "../backup/policy-check.ts";
import { existsSync } from "node:fs";
import { overdueDrills } from "../drill/history.ts";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ExitCode, LabError, badInput } from "../errors.ts";
import { RunContext, type RunContextOptions } from "./context.ts";
import { runHostPlay } from "./host-run.ts";
import { throwSite } from "./throw-site.ts";
import { userCodeReady } from "./user-code.ts";
import type { Playbook } from "./playbook.ts";
import { summarize, type HostSummary, type StepResult } from "./results.ts";
import { knownNames } from "../inventory/patterns.ts";
import { expandPlaybook, type PlayPlan, type Selection } from "./steps.ts";

export interface Reporter {
  playStart(play: string, hosts: string[]): void;
  stepStart(host: string, id: string): void;
  step(result: StepResult): void;
  playEnd(): Promise<void>;
}

export interface PlayOptions {
  check: boolean;
  forks: number;
  reporter: Reporter;
}

export interface RunOptions extends Selection, RunContextOptions, PlayOptions {
  playbook: string;
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

export interface Prepared {
  playbook: Playbook;
  file: string;
  plays: PlayPlan[];
}

export async function loadPlaybook(file: string): Promise<Playbook> {
  let mod: { default?: unknown };
  await userCodeReady();
  try {
    mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown };
  } catch (e) {
    // A resource with a bad option listed directly in the playbook: its own message and position.
    if (e instanceof LabError) throw e;
    if (!existsSync(file))
      throw badInput(`playbook not found: ${file}`, { file }, "pass a file under playbooks/, e.g. playbooks/site.ts");
    const missing = missingImport(e);
    if (missing) {
      throw badInput(
        `playbook ${file} failed to load: cannot find ${missing.what}${missing.from ? ` (imported from ${missing.from})` : ""}`,
        missing.from ? { file: missing.from } : { file },
        "fix the import path (relative imports need the .ts extension), or install the package",
      );
    }
    throw badInput(
      `playbook ${file} failed to load: ${(e as Error).message}`,
      throwSite(e) ?? { file },
      "run `lab check` for type errors; -v shows the stack trace",
    );
  }
  const pb = mod.default as Playbook | undefined;
  if (!pb || !Array.isArray(pb.plays))
    throw badInput(
      `playbook ${file} has no default export made with definePlaybook()`,
      { file },
      "export default definePlaybook({ name, plays: [...] })",
    );
  return pb;
}

/** A module that could not be found while loading a playbook (Node's ERR_MODULE_NOT_FOUND, or tsx/vite's wording). */
function missingImport(e: unknown): { what: string; from?: string } | undefined {
  const msg = e instanceof Error ? e.message : String(e);
  const m =
    /Cannot find (module|package) '([^']+)' imported from (\S+)/.exec(msg) ??
    /Failed to load url (\S+) \(resolved id: [^)]*\) in (\S+)/.exec(msg);
  if (!m) return undefined;
  const [kind, spec, from] = m.length === 4 ? [m[1]!, m[2]!, fromUrl(m[3]!)] : ["module", m[1]!, fromUrl(m[2]!)];
  // A relative specifier is shown as the path it resolved to.
  return { what: `${kind} ${spec.startsWith(".") ? resolve(dirname(from), spec) : fromUrl(spec)}`, from };
}

const fromUrl = (s: string): string => (s.startsWith("file://") ? fileURLToPath(s) : s);

/** Everything checked, nothing contacted: the playbook, its host vars, role vars, resource options and the per-host steps. */
export async function prepare(ctx: RunContext, file: string, sel: Selection): Promise<Prepared> {
  const playbook = await loadPlaybook(file);
  // Every stateful VM and database covered, every schedule readable: before any host is contacted.
  const policy = checkPolicy(ctx.backups, ctx.inventory);
  if (policy.errors[0]) throw policy.errors[0];
  for (const w of policy.warnings) ctx.log.warn(w);
  // Targets whose last successful restore drill (backups/reports/) is older than their drill_every.
  if (ctx.backups.file)
    for (const w of await overdueDrills(dirname(dirname(ctx.backups.file)), ctx.backups.targets, new Date()))
      ctx.log.warn(w);
  const plays = expandPlaybook(playbook, file, ctx.inventory, sel, ctx.tools());
  if (plays.every((p) => p.hosts.length === 0)) {
    throw badInput(
      `no hosts matched${sel.limit ? ` --limit ${sel.limit}` : ""}`,
      { file },
      `check the plays' hosts patterns and --limit; ${knownNames(ctx.inventory)}`,
    );
  }
  return { playbook, file, plays };
}

/** Run prepared plays over the context's hosts; the context stays open (the caller closes it). */
export async function runPlays(ctx: RunContext, prepared: Prepared, opts: PlayOptions): Promise<RunResult> {
  const t0 = performance.now();
  const { plays, playbook } = prepared;
  const results: StepResult[] = [];
  const stopped = new Set<string>();
  for (const play of plays) {
    const hosts = play.hosts.filter((h) => !stopped.has(h.host));
    if (hosts.length === 0 || ctx.signal.aborted) continue;
    opts.reporter.playStart(
      play.name,
      hosts.map((h) => h.host),
    );
    await pool(hosts, opts.forks, async (hp) => {
      const ok = await runHostPlay(ctx.host(hp.host), hp, {
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

  const allHosts = [...new Set(plays.flatMap((p) => p.hosts.map((h) => h.host)))];
  const interrupted = ctx.signal.aborted;
  const hosts = Object.fromEntries(allHosts.map((h) => [h, summarize(results, h, interrupted, ctx.roundTrips(h))]));
  const statuses = Object.values(hosts).map((h) => h.status);
  const exitCode = interrupted
    ? ExitCode.interrupted
    : statuses.includes("failed")
      ? ExitCode.failed
      : statuses.includes("unreachable")
        ? ExitCode.unreachable
        : ExitCode.ok;
  return {
    playbook: playbook.name,
    check: opts.check,
    results,
    hosts,
    exitCode,
    interrupted,
    durationMs: performance.now() - t0,
  };
}

/** Open a context, prepare, run, close: a whole plan or apply without lock or audit (tests, library use). */
export async function run(opts: RunOptions): Promise<RunResult> {
  const ctx = await RunContext.open(opts);
  try {
    return await runPlays(ctx, await prepare(ctx, opts.playbook, opts), opts);
  } finally {
    await ctx.close();
  }
}

/** Run `fn` over items with at most `limit` at once. */
export async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  if (limit < 1) throw new LabError("--forks must be at least 1", ExitCode.badInput);
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
