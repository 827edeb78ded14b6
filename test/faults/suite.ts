// The fault-injection suite: start the lab once, converge it, then for each fault pick
// (from the seed) a kind, a target host and a moment, run `lab apply` with a new round
// of content, inject, repair what the fault broke, and check every invariant.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import type { TestHost } from "../hosts/hosts.ts";
import { inHost } from "../integration/project.ts";
import { within } from "./deadline.ts";
import { CATALOGUE, kindNamed, unmountFault, type FaultCtx, type FaultKind } from "./catalogue.ts";
import { auditLines, checkFiles, checkLeftovers, checkOthersFinished, checkRun, parseReport } from "./invariants.ts";
import { startFaultLab, type FaultLab } from "./lab.ts";
import { startLab, type Finished } from "./lab-run.ts";
import { rng as makeRng, type Rng } from "./rng.ts";

const exec = promisify(execFile);
/** A run that outlives this is itself a violation (a hang), and is killed. */
const RUN_LIMIT_MS = 240_000;
/**
 * One attempt at a fault: about six lab runs (each killed at RUN_LIMIT_MS) plus repairs and
 * checks outside lab (docker, ssh), which nothing else bounds. Past this the case is stuck and
 * the suite stops there, naming it: later cases on a lab in an unknown state would mean nothing.
 */
export const CASE_LIMIT_MS = 4 * RUN_LIMIT_MS;
/** Starting the fault lab and its first converge (image build excluded: scripts/faults.sh does it). */
export const SETUP_LIMIT_MS = 600_000;
/** Tries at one fault whose moment came after the run ended. */
const ATTEMPTS = 4;

/**
 * The suite's outer bound, for a caller's own timeout: it scales with the number of faults. A
 * backstop only: each case stops at CASE_LIMIT_MS first (a retry after a miss is short).
 */
export const suiteLimitMs = (faults: number) => SETUP_LIMIT_MS + faults * CASE_LIMIT_MS;

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
const applyArgs = (scope: string, round: number) => [
  "apply",
  "-y",
  "--json",
  "playbooks/faults.ts",
  "-l",
  scope,
  "-e",
  `round=${round}`,
];

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
    const bad =
      r1?.steps
        .filter((s) => s.status === "failed" || s.status === "unreachable")
        .map((s) => `${s.host} ${s.id}: ${s.reason ?? s.status}`) ?? [];
    return [
      `converge: the next apply exited ${next.code ?? next.signal} (${bad.slice(0, 3).join("; ") || next.stderr.trim().split("\n").slice(-2).join(" | ")})`,
    ];
  }
  const again = await apply(lab, scope, round);
  const r2 = parseReport(again.stdout);
  const changed = r2 ? Object.values(r2.hosts).reduce((n, h) => n + h.changed, 0) : -1;
  if (again.code !== 0 || changed !== 0) {
    const what = r2?.steps.filter((s) => s.status === "changed").map((s) => `${s.host} ${s.id}`) ?? [];
    return [
      `converge: the apply after it exited ${again.code ?? again.signal} with ${changed} change(s) (${what.slice(0, 3).join("; ")})`,
    ];
  }
  return [];
}

/** Bring back what an earlier fault (or a failed repair) left broken: a stopped host, a frozen sshd, a tmpfs, a dead simulator. */
async function heal(lab: FaultLab): Promise<void> {
  const hosts = lab.allHosts();
  const running = (
    await exec("docker", ["inspect", "-f", "{{.State.Running}}", ...hosts.map((h) => h.container)])
  ).stdout
    .trim()
    .split("\n");
  await Promise.all(
    hosts.map(async (h, i) => {
      if (running[i] !== "true") {
        await exec("docker", ["start", h.container]);
        await waitSsh(h);
      }
      const mounted = (
        await inHost(h.container, "pkill -CONT -x sshd; grep -c '^lab-fault ' /proc/mounts; true")
      ).stdout.trim();
      if (mounted !== "0" && mounted !== "") await unmountFault(h.container);
    }),
  );
  await lab.restartSim();
}

async function waitSsh(h: TestHost): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((done) => {
      const s = createConnection({ host: h.address, port: h.port });
      s.setTimeout(1000, () => (s.destroy(), done(false)));
      s.once("error", () => done(false));
      s.once("data", (d) => (s.destroy(), done(d.toString().startsWith("SSH-"))));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${h.name}: sshd did not come back after docker start`);
}

function planKinds(opts: SuiteOptions): FaultKind[] {
  if (opts.kinds) return opts.kinds.map(kindNamed);
  const r = makeRng(opts.seed ^ 0x5eed);
  return Array.from({ length: opts.count ?? 20 }, () => r.pick(CATALOGUE));
}

/** One fault: prepare, run lab, inject, repair, and check every invariant. */
async function oneFault(
  lab: FaultLab,
  kind: FaultKind,
  rng: Rng,
  baselineMs: number,
  converged: number,
  round: number,
): Promise<FaultResult> {
  const plain = lab.plain.hosts;
  const target: TestHost = rng.pick(plain);
  const ctx: FaultCtx = { lab, rng, target, baselineMs };
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
  v.push(...(await checkRun(lab, f, { killsLab: kind.killsLab === true, auditBefore })));
  if (kind.checkBeforeRepair) v.push(...(await checkFiles(lab, plain, converged, round)));
  await kind.repair?.(ctx);
  await heal(lab);
  if (!kind.checkBeforeRepair) v.push(...(await checkFiles(lab, plain, converged, round)));
  v.push(...(await checkLeftovers(lab, since)));
  const hit = kind.hits === "pve1" ? "pve1" : kind.hits ? target.name : undefined;
  if (hit) {
    const report = parseReport(f.stdout);
    v.push(
      ...(await checkOthersFinished(
        lab,
        report,
        Object.keys(report?.hosts ?? {}).filter((h) => h !== hit),
        plain,
        round,
      )),
    );
  }
  const conv = await checkConverges(lab, kind.scope, round);
  v.push(...conv);
  if (conv.length) {
    // Leave a clean lab for the next fault (the violation is recorded).
    await heal(lab);
    await apply(lab, ALL, round);
  }
  return {
    n: 0,
    kind: kind.name,
    target: hit ?? "lab",
    round,
    injected,
    exit: f.code === null ? String(f.signal) : String(f.code),
    ms: f.ms,
    violations: v,
  };
}

export async function runSuite(opts: SuiteOptions): Promise<FaultResult[]> {
  const log = opts.log ?? (() => undefined);
  const kinds = planKinds(opts);
  const rng = makeRng(opts.seed);
  const lab = await within(SETUP_LIMIT_MS, "starting the fault lab", startFaultLab());
  const results: FaultResult[] = [];
  try {
    let round = 0;
    const setup = await within(SETUP_LIMIT_MS, "the first converge", checkConverges(lab, ALL, round));
    if (setup.length) throw new Error(`the fault lab does not converge before any fault: ${setup.join("; ")}`);
    const baseline = new Map<string, number>();
    let converged = 0;
    for (const [i, kind] of kinds.entries()) {
      // A fault whose moment came after the run ended is tried again (3 times) with a new round.
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const res = await within(
          CASE_LIMIT_MS,
          `fault ${i + 1}/${kinds.length} ${kind.name} (attempt ${attempt + 1})`,
          (async () => {
            round++;
            await lab.writePve(round);
            if (!baseline.has(kind.scope)) {
              // A clean run of this scope, timed: fault moments are fractions of it.
              let t = await apply(lab, kind.scope, round);
              if (t.code !== 0) t = await apply(lab, kind.scope, round);
              if (t.code !== 0) throw new Error(`a clean ${kind.scope} run exited ${t.code}: ${t.stderr.slice(-500)}`);
              baseline.set(kind.scope, t.ms);
              converged = round;
              round++;
              await lab.writePve(round);
            }
            return oneFault(lab, kind, rng, baseline.get(kind.scope)!, converged, round);
          })(),
        );
        res.n = i + 1;
        converged = round;
        results.push(res);
        log(
          `fault ${res.n}/${kinds.length} ${res.kind} -> ${res.target} round ${round}: ${res.injected ? "injected" : "missed (the run ended first)"}, exit ${res.exit} after ${res.ms} ms, ${res.violations.length ? `${res.violations.length} VIOLATION(S):\n    ${res.violations.join("\n    ")}` : "ok"}`,
        );
        if (res.injected) break;
      }
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
    return [
      k,
      String(rs.length),
      String(rs.filter((r) => r.violations.length === 0).length),
      String(rs.reduce((n, r) => n + r.violations.length, 0)),
    ];
  });
  const inj = results.filter((r) => r.injected);
  rows.push([
    "total",
    String(inj.length),
    String(inj.filter((r) => r.violations.length === 0).length),
    String(inj.reduce((n, r) => n + r.violations.length, 0)),
  ]);
  const head = ["fault", "injected", "survived", "violations"];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join(" | ")} |`;
  const out = [
    line(head),
    `|${w.map((n, i) => `${i === 0 ? "-" : ""}${"-".repeat(n + 1)}${i === 0 ? "" : ":"}`).join("|")}|`,
    ...rows.map(line),
  ];
  const missed = results.length - inj.length;
  if (missed) out.push("", `${missed} fault(s) not injected: the run ended before the moment came (not counted).`);
  const details = results
    .filter((r) => r.violations.length)
    .flatMap((r) =>
      r.violations.map((v) => `- #${r.n} ${r.kind} -> ${r.target} (round ${r.round}, exit ${r.exit}): ${v}`),
    );
  if (details.length) out.push("", "Violations:", ...details);
  return out.join("\n");
}
