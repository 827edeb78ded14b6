// `lab drill [TARGET...] [--json]` (the quarterly timer, or by hand): a workflow
// on the run context, shaped like `lab backup`. Validate inventory, policy and
// drill definitions (exit 2, nothing contacted), take the lab lock, remove
// leftovers of crashed drills, drill every selected target, then leave the
// reports (JSON, Markdown, SVG), textfile metrics and an audit record.
// Exit 0 only when every drill passed and met its policy; 7 otherwise; 130 when interrupted.
import { mkdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeTextfile } from "../backup/metrics.ts";
import { checkPolicy } from "../backup/policy-check.ts";
import { loadPolicy } from "../backup/policy.ts";
import { cleanupScript, removedDirs } from "../drill/cleanup.ts";
import { loadDrills } from "../drill/definitions.ts";
import { Interrupted, type DrillEnv } from "../drill/env.ts";
import { writeReportFiles } from "../drill/files.ts";
import { drillMetrics } from "../drill/metrics.ts";
import { lastOlderPass } from "../drill/history.ts";
import { drillPostgres } from "../drill/postgres-drill.ts";
import { drillReport, formatTable, type DrillResult } from "../drill/report.ts";
import { pgBin } from "../drill/scratch.ts";
import { drillVmTarget, removeDrillCopies, type VmDrillEnv } from "../drill/vm-drill.ts";
import { openDrillGuest } from "../drill/vm-guest.ts";
import { olderDue, seedOf } from "../drill/vm-plan.ts";
import type { RunContext } from "../engine/context.ts";
import { ExitCode, badInput, errorMessage } from "../errors.ts";
import { redact } from "../secrets/secret.ts";
import { openWorkflow } from "./workflow-context.ts";

export interface DrillOptions {
  root: string;
  inventory: string;
  policy?: string;
  drills?: string;
  targets: string[];
  json: boolean;
  metricsDir?: string;
  verbose?: boolean;
  argv?: string[];
  signal?: AbortSignal;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** Restore a randomly chosen older backup of every VM too, whether or not older_every says it is due. */
  older?: boolean;
  /** Seed of the random older-backup pick (default: from the run id; the report records it). */
  seed?: number;
  /** Tests only: see DrillEnv.beforeChecks. */
  beforeChecks?: DrillEnv["beforeChecks"];
}

const runId = (d: Date) =>
  `${d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z")}-${process.pid}`;

export async function drillCommand(o: DrillOptions): Promise<number> {
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  const { ctx, log } = await openWorkflow(o);
  const t0 = performance.now();
  try {
    const policy = await loadPolicy({
      root: o.root,
      inventory: ctx.inventory,
      ...(o.policy ? { file: resolve(o.root, o.policy) } : {}),
    });
    const found = checkPolicy(policy, ctx.inventory);
    if (found.errors[0]) throw found.errors[0];
    if (!policy.file)
      throw badInput(
        "no backup policy: backups/policy.yaml does not exist",
        { file: join(o.root, "backups/policy.yaml") },
        "write backups/policy.yaml: drills are derived from it",
      );
    const defs = await loadDrills({
      root: o.root,
      policy,
      inventory: ctx.inventory,
      ...(o.drills ? { file: resolve(o.root, o.drills) } : {}),
    });
    const known = policy.targets.map((t) => t.name);
    for (const t of o.targets)
      if (!known.includes(t))
        throw badInput(
          `unknown backup target "${t}"`,
          { file: policy.file },
          `targets in the policy: ${known.join(", ")}`,
        );
    const chosen = (name: string) => !o.targets.length || o.targets.includes(name);
    const selected = defs.postgres.filter((d) => chosen(d.target.name));
    const vmSelected = defs.vms.filter((d) => chosen(d.target.name));
    if (!selected.length && !vmSelected.length)
      throw badInput(
        "nothing to drill: the policy has no target",
        { file: policy.file },
        "add a postgres: or vms: target to backups/policy.yaml",
      );

    await ctx.lock(`lab ${(o.argv ?? ["drill"]).join(" ")}`);
    const startedAt = new Date();
    const run = runId(startedAt);
    const env: DrillEnv = {
      exec: (host, command, opts) => ctx.exec(host, command, opts?.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      signal: ctx.signal,
      now: () => new Date(),
      progress: (line) => stderr.write(`lab: ${redact(line)}\n`),
      ...(o.beforeChecks ? { beforeChecks: o.beforeChecks } : {}),
    };
    // Leftovers of crashed drills (we hold the lab lock: no other drill is running).
    const leftovers: string[] = [];
    for (const [host, bin] of new Map(
      selected.flatMap(
        (d) =>
          [
            [d.target.host, pgBin(d.target.cluster)],
            [d.scratchHost, pgBin(d.target.cluster)],
          ] as const,
      ),
    )) {
      const removed = removedDirs((await ctx.exec(host, cleanupScript(bin))).stdout).map((d) => `${host}:${d}`);
      if (removed.length) env.progress(`removed leftovers of a crashed drill: ${removed.join(", ")}`);
      leftovers.push(...removed);
    }
    const vmEnv = vmDrillEnv(ctx, env, join(o.root, ".lab", "drill", run));
    for (const def of new Map(vmSelected.map((d) => [`${d.endpoint}/${d.node}`, d])).values()) {
      try {
        const removed = await removeDrillCopies(await vmEnv.cleanupApi(def.endpoint), def.node, def.vmidRange);
        if (removed.length) env.progress(`removed leftovers of a crashed drill: ${removed.join(", ")}`);
        leftovers.push(...removed);
      } catch (e) {
        env.progress(`${def.endpoint}: could not look for leftovers of crashed drills: ${errorMessage(e)}`);
      }
    }
    const results: DrillResult[] = [];
    let interrupted = false;
    for (const def of selected) {
      if (ctx.signal.aborted) {
        interrupted = true;
        break;
      }
      env.progress(
        `${def.target.name}: drill ${run} (${def.restores.map((r) => `${r.to} from ${r.repo.name}`).join(", ")})`,
      );
      try {
        results.push(await drillPostgres(env, def, run));
      } catch (e) {
        if (!(e instanceof Interrupted)) throw e;
        interrupted = true;
        break;
      }
    }
    for (const def of interrupted ? [] : vmSelected) {
      if (ctx.signal.aborted) {
        interrupted = true;
        break;
      }
      const t = def.target.name;
      const older = {
        due: olderDue(o.older ?? false, await lastOlderPass(o.root, t), def.olderEverySec, startedAt),
        forced: o.older ?? false,
        seed: o.seed ?? seedOf(`${run}:${t}`),
      };
      env.progress(
        `${t}: drill ${run} (${def.vms.map((v) => v.name).join(", ")}: newest backup${older.due ? " and a random older one" : ""}, on VLAN ${def.vlan.name})`,
      );
      try {
        results.push(await drillVmTarget(vmEnv, def, run, older));
      } catch (e) {
        if (!(e instanceof Interrupted)) throw e;
        interrupted = true;
        break;
      }
    }
    await rm(join(o.root, ".lab", "drill", run), { recursive: true, force: true });
    const report = drillReport({
      run,
      started_at: startedAt.toISOString(),
      finished_at: new Date().toISOString(),
      interrupted,
      drills: results,
      leftovers_removed: leftovers,
      warnings: found.warnings,
    });
    const files = await writeReportFiles(o.root, report);
    log.debug(`report written to ${files.markdown} (${files.json}, ${files.svg})`);
    log.debug(
      `metrics written to ${await writeTextfile(o.metricsDir ?? join(o.root, ".lab", "metrics"), "lab-drill", drillMetrics(report))}`,
    );
    const code = interrupted ? ExitCode.interrupted : report.ok ? ExitCode.ok : ExitCode.drillFailed;
    await ctx.audit({
      argv: o.argv ?? ["drill"],
      playbook: "(lab drill)",
      check: false,
      hosts: [
        ...new Set([...selected.flatMap((d) => [d.target.host, d.scratchHost]), ...vmSelected.map((d) => d.endpoint)]),
      ],
      changes: [],
      outcome: interrupted ? "interrupted" : report.ok ? "ok" : "failed",
      exitCode: code,
      durationMs: Math.round(performance.now() - t0),
    });
    stdout.write(
      redact(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatTable(report)}\nreport: ${files.markdown}\n`),
    );
    return code;
  } finally {
    await ctx.close();
  }
}

/**
 * What a VM drill needs from the run context: the endpoints' API clients, a
 * second client per endpoint whose signal is never aborted (removing scratch
 * copies after Ctrl-C; its requests and task waits stay bounded by their
 * timeouts), and SSH into restored guests with per-copy pinned host keys in `dir`.
 */
function vmDrillEnv(ctx: RunContext, env: DrillEnv, dir: string): VmDrillEnv {
  const connect = () => import("../proxmox/resources/connect.ts");
  const cleanupCtx = {
    log: ctx.log,
    signal: new AbortController().signal,
    service: <T>(key: string, make: () => Promise<T>) => ctx.service(`drill-cleanup:${key}`, make),
  };
  return {
    signal: ctx.signal,
    now: () => env.now(),
    progress: (line) => env.progress(line),
    api: async (endpoint) => (await connect()).pveClient(ctx, endpoint),
    cleanupApi: async (endpoint) => {
      const ep = ctx.lab.proxmox[endpoint]!;
      return (await connect()).pveService(endpoint, ep, ctx.secret(ep.token_secret), ctx.root)(cleanupCtx);
    },
    openGuest: async (api, node, vmid, address, login) => {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      return openDrillGuest(dir, api, node, vmid, address, login);
    },
  };
}
