// `lab drill [TARGET...] [--json]` (the quarterly timer, or by hand): a workflow
// on the run context, shaped like `lab backup`. Validate inventory, policy and
// drill definitions (exit 2, nothing contacted), take the lab lock, remove
// leftovers of crashed drills, drill every selected target, then leave the
// reports (JSON, Markdown, SVG), textfile metrics and an audit record.
// Exit 0 only when every drill passed and met its policy; 7 otherwise; 130 when interrupted.
import { join, resolve } from "node:path";
import { writeTextfile } from "../backup/metrics.ts";
import { checkPolicy } from "../backup/policy-check.ts";
import { loadPolicy } from "../backup/policy.ts";
import { cleanupScript, removedDirs } from "../drill/cleanup.ts";
import { loadDrills } from "../drill/definitions.ts";
import { Interrupted, type DrillEnv } from "../drill/env.ts";
import { writeReportFiles } from "../drill/files.ts";
import { drillMetrics } from "../drill/metrics.ts";
import { drillPostgres, type PgDrillResult } from "../drill/postgres-drill.ts";
import { drillReport, formatTable } from "../drill/report.ts";
import { pgBin } from "../drill/scratch.ts";
import { ExitCode, badInput } from "../errors.ts";
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
  /** Tests only: see DrillEnv.beforeChecks. */
  beforeChecks?: DrillEnv["beforeChecks"];
}

const runId = (d: Date) => `${d.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-${process.pid}`;

export async function drillCommand(o: DrillOptions): Promise<number> {
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  const { ctx, log } = await openWorkflow(o);
  const t0 = performance.now();
  try {
    const policy = await loadPolicy({ root: o.root, inventory: ctx.inventory, ...(o.policy ? { file: resolve(o.root, o.policy) } : {}) });
    const found = checkPolicy(policy, ctx.inventory);
    if (found.errors[0]) throw found.errors[0];
    if (!policy.file) throw badInput("no backup policy: backups/policy.yaml does not exist", { file: join(o.root, "backups/policy.yaml") }, "write backups/policy.yaml: drills are derived from it");
    const defs = await loadDrills({ root: o.root, policy, inventory: ctx.inventory, ...(o.drills ? { file: resolve(o.root, o.drills) } : {}) });
    const known = policy.targets.map((t) => t.name);
    for (const t of o.targets) if (!known.includes(t)) throw badInput(`unknown backup target "${t}"`, { file: policy.file }, `targets in the policy: ${known.join(", ")}`);
    const vmOnly = o.targets.filter((t) => policy.vms.some((v) => v.name === t));
    if (vmOnly.length) throw badInput(`VM drills are not available yet: ${vmOnly.join(", ")}`, { file: policy.file }, "drill the PostgreSQL targets (lab drill without VM targets)");
    const selected = defs.filter((d) => !o.targets.length || o.targets.includes(d.target.name));
    if (!selected.length) throw badInput("nothing to drill: the policy has no PostgreSQL target", { file: policy.file }, "add a postgres: target to backups/policy.yaml");

    await ctx.lock(`lab ${(o.argv ?? ["drill"]).join(" ")}`);
    const startedAt = new Date();
    const run = runId(startedAt);
    const env: DrillEnv = {
      exec: (host, command, opts) => ctx.exec(host, command, opts?.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      signal: ctx.signal, now: () => new Date(),
      progress: (line) => stderr.write(`lab: ${redact(line)}\n`),
      ...(o.beforeChecks ? { beforeChecks: o.beforeChecks } : {}),
    };
    // Leftovers of crashed drills (we hold the lab lock: no other drill is running).
    const leftovers: string[] = [];
    for (const [host, bin] of new Map(selected.flatMap((d) => [[d.target.host, pgBin(d.target.cluster)], [d.scratchHost, pgBin(d.target.cluster)]] as const))) {
      const removed = removedDirs((await ctx.exec(host, cleanupScript(bin))).stdout).map((d) => `${host}:${d}`);
      if (removed.length) env.progress(`removed leftovers of a crashed drill: ${removed.join(", ")}`);
      leftovers.push(...removed);
    }
    const results: PgDrillResult[] = [];
    let interrupted = false;
    for (const def of selected) {
      if (ctx.signal.aborted) { interrupted = true; break; }
      env.progress(`${def.target.name}: drill ${run} (${def.restores.map((r) => `${r.to} from ${r.repo.name}`).join(", ")})`);
      try {
        results.push(await drillPostgres(env, def, run));
      } catch (e) {
        if (!(e instanceof Interrupted)) throw e;
        interrupted = true;
        break;
      }
    }
    const report = drillReport({ run, started_at: startedAt.toISOString(), finished_at: new Date().toISOString(), interrupted, drills: results, leftovers_removed: leftovers, warnings: found.warnings });
    const files = await writeReportFiles(o.root, report);
    log.debug(`report written to ${files.markdown} (${files.json}, ${files.svg})`);
    log.debug(`metrics written to ${await writeTextfile(o.metricsDir ?? join(o.root, ".lab", "metrics"), "lab-drill", drillMetrics(report))}`);
    const code = interrupted ? ExitCode.interrupted : report.ok ? ExitCode.ok : ExitCode.drillFailed;
    await ctx.audit({
      argv: o.argv ?? ["drill"], playbook: "(lab drill)", check: false, hosts: [...new Set(selected.flatMap((d) => [d.target.host, d.scratchHost]))], changes: [],
      outcome: interrupted ? "interrupted" : report.ok ? "ok" : "failed", exitCode: code, durationMs: Math.round(performance.now() - t0),
    });
    stdout.write(redact(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatTable(report)}\nreport: ${files.markdown}\n`));
    return code;
  } finally {
    await ctx.close();
  }
}
