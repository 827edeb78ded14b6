// `lab backup [TARGET...] [--run] [--json]` (nightly) and `lab backup verify`
// (weekly): workflows on the run context. Validate inventory + policy (exit 2,
// nothing contacted), lock only when --run changes something, collect and judge,
// then leave the table (or JSON), a status file, textfile metrics and an audit
// record. Exit 6 on any breach.
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { checkBackups, type BackupEnv } from "../backup/check.ts";
import { writeTextfile } from "../backup/metrics.ts";
import { checkPolicy } from "../backup/policy-check.ts";
import { loadPolicy, vmJobIds, type BackupPolicy } from "../backup/policy.ts";
import { verifyMetrics, verifyPg } from "../backup/verify.ts";
import { backupMetrics, formatBackupTable, statusFile, type BackupReport } from "../backup/report.ts";
import type { RunContext } from "../engine/context.ts";
import type { Logger } from "../engine/types.ts";
import { ExitCode, badInput } from "../errors.ts";
import { redact } from "../secrets/secret.ts";
import { openWorkflow, type WorkflowOptions } from "./workflow-context.ts";

export interface BackupCheckOptions extends WorkflowOptions {
  targets: string[];
  run: boolean;
  /** Directory of node-exporter's textfile collector (default <root>/.lab/metrics). */
  metricsDir?: string;
}

interface Opened {
  ctx: RunContext;
  env: BackupEnv;
  policy: BackupPolicy;
  warnings: string[];
  log: Logger;
  stdout: NodeJS.WritableStream;
}

/** The policy, validated against the inventory (exit 2, nothing contacted), with the named targets in it. */
export async function checkedPolicy(
  ctx: RunContext,
  o: { root: string; policy?: string; targets: readonly string[] },
): Promise<{ policy: BackupPolicy & { file: string }; warnings: string[] }> {
  const policy = await loadPolicy({
    root: o.root,
    inventory: ctx.inventory,
    ...(o.policy ? { file: resolve(o.root, o.policy) } : {}),
  });
  const found = checkPolicy(policy, ctx.inventory);
  if (found.errors[0]) throw found.errors[0];
  const file = policy.file;
  if (!file)
    throw badInput(
      "no backup policy: backups/policy.yaml does not exist",
      { file: join(o.root, "backups/policy.yaml") },
      'write backups/policy.yaml (see backups/policy.schema.json and README "Backups")',
    );
  const known = policy.targets.map((t) => t.name);
  for (const t of o.targets)
    if (!known.includes(t))
      throw badInput(`unknown backup target "${t}"`, { file }, `targets in the policy: ${known.join(", ")}`);
  return { policy: { ...policy, file }, warnings: found.warnings };
}

/** The shared first half: context, validated policy, known targets, the workflow's environment. */
async function open(o: BackupCheckOptions): Promise<Opened> {
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  const { ctx, log } = await openWorkflow(o);
  try {
    const { policy, warnings } = await checkedPolicy(ctx, o);
    const { pbsClient, pveClient } = await import("../proxmox/resources/connect.ts");
    const env: BackupEnv = {
      inventory: ctx.inventory,
      policy,
      now: o.now ?? (() => new Date()),
      exec: (host, command, opts) => ctx.exec(host, command, opts?.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      pve: (endpoint) => pveClient(ctx, endpoint),
      offsiteSnapshots: async (t) => {
        if (!t.offsite) return undefined;
        const snaps = await (
          await pbsClient(ctx, t.pbs)
        ).get("/admin/datastore/{store}/snapshots", { store: t.offsite.datastore });
        const out: Record<number, number[]> = {};
        for (const s of snaps)
          if (s["backup-type"] === "vm") (out[Number(s["backup-id"])] ??= []).push(s["backup-time"]);
        return out;
      },
      runOffsiteSync: async (t) => {
        const pbs = await pbsClient(ctx, t.pbs);
        const id = vmJobIds(t.name).offsiteSync;
        await pbs.wait(await pbs.post("/admin/sync/{id}/run", { id }), `sync job ${id}`);
      },
      progress: (line) => stderr.write(`lab: ${redact(line)}\n`),
    };
    return { ctx, env, policy, warnings, log, stdout };
  } catch (e) {
    await ctx.close();
    throw e;
  }
}

export async function backupCheckCommand(o: BackupCheckOptions): Promise<number> {
  const { ctx, env, policy, warnings, log, stdout } = await open(o);
  const t0 = performance.now();
  try {
    if (o.run) await ctx.lock(`lab ${(o.argv ?? ["backup", "--run"]).join(" ")}`);
    const checked = await checkBackups(env, { targets: o.targets, run: o.run });
    const report: BackupReport = { ...checked, warnings: [...warnings, ...checked.warnings] };
    await writeStatus(statusFile(o.root), report);
    log.debug(
      `metrics written to ${await writeTextfile(o.metricsDir ?? join(o.root, ".lab", "metrics"), "lab-backup", backupMetrics(report))}`,
    );
    const code = report.ok ? ExitCode.ok : ExitCode.backupBreach;
    await ctx.audit({
      argv: o.argv ?? ["backup"],
      playbook: "(lab backup)",
      check: !o.run,
      hosts: [...new Set(policy.postgres.map((t) => t.host))],
      changes: [],
      outcome: report.ok ? "ok" : "failed",
      exitCode: code,
      durationMs: Math.round(performance.now() - t0),
    });
    stdout.write(redact(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatBackupTable(report)}\n`));
    return code;
  } finally {
    await ctx.close();
  }
}

export async function backupVerifyCommand(o: BackupCheckOptions): Promise<number> {
  const { ctx, env, policy, log, stdout } = await open(o);
  const t0 = performance.now();
  try {
    const selected = policy.postgres.filter((t) => !o.targets.length || o.targets.includes(t.name));
    const results = (await Promise.all(selected.map((t) => verifyPg(env, t)))).flat();
    // VM backups: their PBS verify state is part of the nightly check's report.
    const vms = await checkBackups(env, { targets: o.targets, kinds: ["vm"] });
    const vmRows = vms.targets.flatMap((t) =>
      t.kind === "vm"
        ? t.vms.map((v) => ({
            target: t.target,
            repository: v.vm,
            ok: v.verify === "ok",
            findings: v.verify === "ok" ? [] : [v.verify ? `PBS verify state ${v.verify}` : "not verified yet"],
          }))
        : [],
    );
    const all = [...results, ...vmRows];
    const ok = all.every((r) => r.ok);
    log.debug(
      `metrics written to ${await writeTextfile(o.metricsDir ?? join(o.root, ".lab", "metrics"), "lab-backup-verify", verifyMetrics(results, env.now()))}`,
    );
    const code = ok ? ExitCode.ok : ExitCode.backupBreach;
    await ctx.audit({
      argv: o.argv ?? ["backup", "verify"],
      playbook: "(lab backup verify)",
      check: true,
      hosts: [...new Set(selected.map((t) => t.host))],
      changes: [],
      outcome: ok ? "ok" : "failed",
      exitCode: code,
      durationMs: Math.round(performance.now() - t0),
    });
    if (o.json) stdout.write(`${JSON.stringify({ format_version: 1, ok, results: all }, null, 2)}\n`);
    else
      stdout.write(
        `${all.map((r) => `${r.target}  ${r.repository}  ${r.ok ? "intact" : `DAMAGED: ${r.findings.join("; ")}`}`).join("\n")}\n${ok ? "every repository verified intact" : "verification found damage: restore drills from these backups will fail"}\n`,
      );
    return code;
  } finally {
    await ctx.close();
  }
}

/** The last result, replaced atomically (what `lab schedule status` shows). */
async function writeStatus(file: string, report: BackupReport): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, file);
}
