// The fault-injection suite: start the lab once, converge it, then for each fault pick
// (from the seed) a kind, a target host and a moment, run `lab apply` with a new round
// of content, inject, repair what the fault broke, and check every invariant.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { TestHost } from "../hosts/hosts.ts";
import { inHost } from "../integration/project.ts";
import { CATALOGUE, kindNamed, type FaultCtx, type FaultKind } from "./catalogue.ts";
import { auditLines, checkFiles, checkLeftovers, checkOthersFinished, checkRun, parseReport } from "./invariants.ts";
import { startFaultLab, type FaultLab } from "./lab.ts";
import { startLab, type Finished } from "./lab-run.ts";
import { rng as makeRng } from "./rng.ts";

const exec = promisify(execFile);
/** A run that outlives this is itself a violation (a hang), and is killed. */
const RUN_LIMIT_MS = 240_000;

export interface FaultResult {
  n: number;
  kind: string;
  target: string;
  round: number;
  injected: boolean;
  exit: string;
  ms: number;
  violations: string[];
}

export interface SuiteOptions {
  seed: number;
  /** Fault kinds in order (a fixed set); or `count` kinds drawn from the seed. */
  kinds?: string[];
  count?: number;
  log?: (line: string) => void;
}

const ALL = "proxmox:plain:docker";
const applyArgs = (scope: string, round: number) => ["apply", "--json", "playbooks/faults.ts", "-l", scope, "-e", `round=${round}`];

async function apply(lab: FaultLab, scope: string, round: number): Promise<Finished> {
  const p = startLab(lab.project.root, applyArgs(scope, round), lab.env);
  const timer = setTimeout(() => p.child.kill("SIGKILL"), RUN_LIMIT_MS);
  try {
    return await p.done;
  } finally {
    clearTimeout(timer);
  }
}

/** The next apply converges and the one after changes nothing. */
async function checkConverges(lab: FaultLab, scope: string, round: number): Promise<string[]> {
  const next = await apply(lab, scope, round);
  const r1 = parseReport(next.stdout);
  if (next.code !== 0) {
    const bad = r1?.steps.filter((s) => s.status === "failed" || s.status === "unreachable").map((s) => `${s.host} ${s.id}: ${s.reason ?? s.status}`) ?? [];
    return [`converge: the next apply exited ${next.code ?? next.signal} (${bad.slice(0, 3).join("; ") || next.stderr.trim().split("\n").slice(-2).join(" | ")})`];
  }
  const again = await apply(lab, scope, round);
  const r2 = parseReport(again.stdout);
  const changed = r2 ? Object.values(r2.hosts).reduce((n, h) => n + h.changed, 0) : -1;
  if (again.code !== 0 || changed !== 0) {
    const what = r2?.steps.filter((s) => s.status === "changed").map((s) => `${s.host} ${s.id}`) ?? [];
    return [`converge: the apply after it exited ${again.code ?? again.signal} with ${changed} change(s) (${what.slice(0, 3).join("; ")})`];
  }
  return [];
}

/** Bring back what an earlier fault (or a failed repair) left broken: a stopped host, a frozen sshd, a dead simulator. */
async function heal(lab: FaultLab): Promise<void> {
  await Promise.all(lab.allHosts().map(async (h) => {
    const state = (await exec("docker", ["inspect", "-f", "{{.State.Running}}", h.container]).catch(() => ({ stdout: "gone" }))).stdout.trim();
    if (state === "false") await exec("docker", ["start", h.container]);
    await inHost(h.container, "pkill -CONT -x sshd; true");
  }));
  await lab.restartSim();
}

function planKinds(opts: SuiteOptions): FaultKind[] {
  if (opts.kinds) return opts.kinds.map(kindNamed);
  const r = makeRng(opts.seed ^ 0x5eed);
  return Array.from({ length: opts.count ?? 20 }, () => r.pick(CATALOGUE));
}

export async function runSuite(opts: SuiteOptions): Promise<FaultResult[]> {
  const log = opts.log ?? (() => undefined);
  const kinds = planKinds(opts);
  const rng = makeRng(opts.seed);
  const lab = await startFaultLab();
  const results: FaultResult[] = [];
  try {
    let round = 0;
    const setup = await checkConverges(lab, ALL, round);
    if (setup.length) throw new Error(`the fault lab does not converge before any fault: ${setup.join("; ")}`);
    const baseline = new Map<string, number>();
    let converged = 0;
    for (const [i, kind] of kinds.entries()) {
      round++;
      await lab.writePve(round);
      if (!baseline.has(kind.scope)) {
        // A clean run of this scope, timed: fault moments are fractions of it.
        const t = await apply(lab, kind.scope, round);
        if (t.code !== 0) throw new Error(`a clean ${kind.scope} run exited ${t.code}: ${t.stderr.slice(-500)}`);
        baseline.set(kind.scope, t.ms);
        converged = round;
        round++;
        await lab.writePve(round);
      }
      const plain = lab.plain.hosts;
      const target: TestHost = rng.pick(plain);
      const ctx: FaultCtx = { lab, rng, target, baselineMs: baseline.get(kind.scope)! };
      const since = join(lab.project.root, ".lab", "fault-marker");
      await writeFile(since, "");
      const auditBefore = (await auditLines(lab)).length;
      await kind.prepare?.(ctx);
      const p = startLab(lab.project.root, applyArgs(kind.scope, round), lab.env);
      const limit = setTimeout(() => p.child.kill("SIGKILL"), RUN_LIMIT_MS);
      const injected = await kind.inject(ctx, p);
      const f = await p.done;
      clearTimeout(limit);
      const v: string[] = [];
      if (f.ms >= RUN_LIMIT_MS) v.push(`hang: lab still ran after ${RUN_LIMIT_MS / 1000} s and was killed`);
      v.push(...await checkRun(lab, f, { killsLab: kind.killsLab === true, auditBefore }));
      if (kind.checkBeforeRepair) v.push(...await checkFiles(lab, plain, converged, round));
      await kind.repair?.(ctx);
      await heal(lab);
      if (!kind.checkBeforeRepair) v.push(...await checkFiles(lab, plain, converged, round));
      v.push(...await checkLeftovers(lab, since));
      if (kind.hits) {
        const hit = kind.hits === "pve1" ? "pve1" : target.name;
        const others = Object.keys(parseReport(f.stdout)?.hosts ?? {}).filter((h) => h !== hit);
        v.push(...await checkOthersFinished(lab, parseReport(f.stdout), others, plain, round));
      }
      const conv = await checkConverges(lab, kind.scope, round);
      v.push(...conv);
      if (conv.length) {
        // Leave a clean lab for the next fault (the violation is recorded).
        await heal(lab);
        await apply(lab, ALL, round);
      }
      converged = round;
      const res: FaultResult = {
        n: i + 1, kind: kind.name, target: kind.hits === "pve1" ? "pve1" : kind.hits ? target.name : "lab", round, injected,
        exit: f.code === null ? String(f.signal) : String(f.code), ms: f.ms, violations: v,
      };
      results.push(res);
      log(`fault ${res.n}/${kinds.length} ${res.kind} -> ${res.target} round ${round}: ${injected ? "injected" : "missed (the run ended first)"}, exit ${res.exit} after ${f.ms} ms, ${v.length ? `${v.length} VIOLATION(S):\n    ${v.join("\n    ")}` : "ok"}`);
    }
  } finally {
    if (process.env.LAB_KEEP_HOSTS !== "1") await lab.stop();
  }
  return results;
}

/** The table: per kind, injected / survived / violations; then every violation. */
export function formatTable(results: FaultResult[]): string {
  const kinds = [...new Set(results.map((r) => r.kind))];
  const rows = kinds.map((k) => {
    const rs = results.filter((r) => r.kind === k && r.injected);
    return [k, String(rs.length), String(rs.filter((r) => r.violations.length === 0).length), String(rs.reduce((n, r) => n + r.violations.length, 0))];
  });
  const inj = results.filter((r) => r.injected);
  rows.push(["total", String(inj.length), String(inj.filter((r) => r.violations.length === 0).length), String(inj.reduce((n, r) => n + r.violations.length, 0))]);
  const head = ["fault", "injected", "survived", "violations"];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join(" | ")} |`;
  const out = [line(head), `|${w.map((n, i) => `${i === 0 ? "-" : ""}${"-".repeat(n + 1)}${i === 0 ? "" : ":"}`).join("|")}|`, ...rows.map(line)];
  const missed = results.length - inj.length;
  if (missed) out.push("", `${missed} fault(s) not injected: the run ended before the moment came (not counted).`);
  const details = results.filter((r) => r.violations.length).flatMap((r) => r.violations.map((v) => `- #${r.n} ${r.kind} -> ${r.target} (round ${r.round}, exit ${r.exit}): ${v}`));
  if (details.length) out.push("", "Violations:", ...details);
  return out.join("\n");
}
