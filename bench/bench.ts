// `npm run bench`: the same small site playbook with lab and with ansible-playbook
// against the same N container hosts (real sshd, strict host keys), first run and
// no-op run, next to the floor (`ssh HOST true` to all hosts at once). Hosts are
// recreated before each tool's first run, so every first run starts from fresh hosts.
//
// Usage: npx tsx bench/bench.ts [--sizes 10,25] [--reps 3] [--budget 600] [--out bench/results/latest.md]
// [--settle 120] (or env BENCH_SIZES, ...). --budget (seconds) stops after the last
// repetition that fits, so a loaded machine still finishes in time; --settle waits
// that long at most for the load average to drop below the core count first.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { buildImage, startHosts, stopPrefix } from "../test/hosts/hosts.ts";
import { checkTable, memoryTable, targetLines, timeTable, type Phase, type SizeResult } from "./report.ts";
import { killActive } from "./measure.ts";
import { measureStartup, startupTable } from "./startup.ts";
import {
  REPO,
  ansibleRun,
  closeAllMasters,
  fingerprint,
  floor,
  labApply,
  labPlanIsClean,
  writeSite,
  type Outcome,
  type Site,
  type Tool,
} from "./tools.ts";

const PREFIX = "lab-bench";
const SUBNET = "127.0.30";
const STATE = join(REPO, ".cache/bench");

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return (i > 0 ? process.argv[i + 1] : undefined) ?? process.env[`BENCH_${name.toUpperCase()}`] ?? fallback;
}
const sizes = option("sizes", "10,25")
  .split(",")
  .map(Number)
  .filter((n) => n > 0);
const reps = Number(option("reps", "3"));
const out = resolve(REPO, option("out", "bench/results/latest.md"));
const budgetS = Number(option("budget", "600"));
const settleS = Number(option("settle", "120"));

const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const problems: string[] = [];
const sh = (cmd: string) => {
  try {
    return execFileSync("sh", ["-c", cmd], { encoding: "utf8" }).trim();
  } catch {
    return "?";
  }
};

/** A first run must change something on every host; a no-op run nothing anywhere; nobody may fail. */
function verify(what: string, o: Outcome, hosts: number, phase: Phase, floorBefore: Outcome): void {
  const reported = Object.keys(o.changed).length;
  const sum = Object.values(o.changed).reduce((a, b) => a + b, 0);
  log(
    `${what}: ${secs(o.m.wallMs)} (floor just before: ${secs(floorBefore.m.wallMs)}), changed ${sum} on ${reported} hosts` +
      (o.roundTrips
        ? `, round trips/host ${[...new Set(Object.values(o.roundTrips))].join("/")}, engine ${secs(o.engineMs ?? NaN)}`
        : "") +
      `, max RSS ${(o.m.maxRssKb / 1024).toFixed(0)} MB, tree PSS ${(o.m.treePssKb / 1024).toFixed(0)} MB`,
  );
  for (const f of o.failed) problems.push(`${what}: ${f}`);
  if (reported !== hosts) problems.push(`${what}: ${reported} of ${hosts} hosts reported a result`);
  if (phase === "first") {
    const unchanged = Object.entries(o.changed)
      .filter(([, n]) => n === 0)
      .map(([h]) => h);
    if (unchanged.length) problems.push(`${what}: first run on fresh hosts changed nothing on ${unchanged.join(", ")}`);
  } else if (sum !== 0) {
    problems.push(
      `${what}: no-op run changed ${sum}: ${Object.entries(o.changed)
        .filter(([, n]) => n > 0)
        .map(([h, n]) => `${h}=${n}`)
        .join(" ")}`,
    );
  }
}

/** Each run's raw output in bench/results/runs/, to see what happened when a check fails. */
function saveRaw(what: string, o: Outcome): void {
  const dir = join(dirname(out), "runs");
  mkdirSync(dir, { recursive: true });
  const file = what.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "");
  writeFileSync(join(dir, `${file}.out`), o.m.stdout);
  if (o.m.stderr) writeFileSync(join(dir, `${file}.err`), o.m.stderr);
}

const names = (n: number) => Array.from({ length: n }, (_, i) => `h${String(i + 1).padStart(2, "0")}`);

/** Fresh hosts (recreated containers: nothing of a previous run is left) and both tools' inventories. */
async function freshSite(n: number, restartMs?: number[]): Promise<Site> {
  const t0 = performance.now();
  const lab = await startHosts({ prefix: PREFIX, names: names(n), subnet: SUBNET, stateDir: STATE });
  restartMs?.push(performance.now() - t0);
  const work = join(STATE, `site-${n}`);
  mkdirSync(work, { recursive: true });
  return writeSite(lab, work);
}

/** Not measured: tsx's transform cache and the page cache for lab, Ansible and ssh. A plan changes nothing. */
async function warmUp(site: Site, n: number): Promise<void> {
  const warm = await labPlanIsClean(site, n);
  if (warm.output && !/^exit 10\b/.test(warm.output))
    throw new Error(`lab plan (warm-up) failed:\n${warm.output.slice(-2000)}`);
  execFileSync("ansible-playbook", ["--syntax-check", "site.yml"], {
    cwd: join(REPO, "bench/site/ansible"),
    env: { ...process.env, ANSIBLE_CONFIG: site.ansibleConfig },
    stdio: "ignore",
  });
  await floor(site);
}

/** One repetition on n hosts: the floor, then each tool's first and no-op run on fresh hosts. */
async function repetition(
  r: SizeResult,
  rep: number,
  tools: Tool[],
  fingerprints: Partial<Record<Tool, Record<string, string>>>,
): Promise<void> {
  const n = r.hosts;
  const tag = `[${n} hosts, rep ${rep}]`;
  let site = await freshSite(n, r.restartMs);
  const measured = async (tool: Tool, phase: Phase) => {
    // The floor right before each run: its ratio to the run holds even when the load drifts.
    const f = await floor(site);
    for (const e of f.failed) problems.push(`${tag} floor: ${e}`);
    r.floor.push(f);
    r.floorBefore[tool][phase].push(f);
    const o = tool === "lab" ? await labApply(site, n) : await ansibleRun(site, n);
    const what = `${tag} ${tool} ${phase === "first" ? "first" : "no-op"} run`;
    verify(what, o, n, phase, f);
    saveRaw(what, o);
    r.runs[tool][phase].push(o);
  };
  // Alternate which tool goes first, so drift in machine load does not favour one.
  const order = rep % 2 ? tools : [...tools].reverse();
  for (const [i, tool] of order.entries()) {
    if (i > 0) site = await freshSite(n, r.restartMs);
    await measured(tool, "first");
    await measured(tool, "noop");
    if (rep !== 1) continue;
    // Same end state? Read it without either tool (compared below), and let lab judge Ansible's.
    fingerprints[tool] = await fingerprint(site);
    if (tool === "ansible") {
      const judge = await labPlanIsClean(site, n);
      r.crossCheck.push(
        `after ansible: \`lab plan --detailed-exitcode\` ${judge.clean ? "shows no change ✅" : "shows changes ❌"}`,
      );
      if (!judge.clean) problems.push(`${tag} lab plan after ansible is not clean:\n${judge.output.slice(-3000)}`);
    }
  }
  const { lab: byLab, ansible: byAnsible } = fingerprints;
  if (rep === 1 && byLab && byAnsible) {
    const differ = names(n).filter((h) => byLab[h] !== byAnsible[h]);
    r.crossCheck.push(
      `files, modes, sha256, cron state read with docker exec: ${differ.length === 0 ? `identical on all ${n} hosts ✅` : `differ on ${differ.join(", ")} ❌`}`,
    );
    for (const h of differ.slice(0, 2))
      problems.push(`${n} hosts: end state differs on ${h}:\n--- lab\n${byLab[h]}\n--- ansible\n${byAnsible[h]}`);
  }
}

function machine(): string[] {
  const cpuModel = cpus()[0]?.model ?? "?";
  return [
    `- date: ${new Date().toISOString()}; lab commit ${sh("git -C " + REPO + " rev-parse --short HEAD")}${sh(`git -C ${REPO} status --porcelain -- src | head -1`) ? " (+ uncommitted src changes)" : ""}`,
    `- machine: ${cpus().length} × ${cpuModel}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${sh("uname -r")}`,
    `- node ${process.version}; ${sh("ansible --version 2>/dev/null").split("\n")[0] ?? "?"}; ${sh("ssh -V 2>&1")}; docker ${sh("docker version --format '{{.Server.Version}}'")}`,
    `- hosts: docker containers (${PREFIX}, image lab-testhost:bookworm), each a real sshd on its own ${SUBNET}.x:2222, \`--network host\``,
  ];
}

const load1min = () => Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);

/** Other work on the machine skews every number: wait (up to --settle s) for the load to drop below the core count. */
async function settle(): Promise<void> {
  const deadline = performance.now() + settleS * 1000;
  if (load1min() >= cpus().length)
    log(`load average ${load1min()} ≥ ${cpus().length} cores: waiting up to ${settleS} s for it to drop`);
  while (load1min() >= cpus().length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5000));
}

async function main(): Promise<void> {
  await settle();
  const load0 = readFileSync("/proc/loadavg", "utf8").trim();
  log(`sizes ${sizes.join(", ")}; ${reps} repetitions; load average at start: ${load0}`);
  await buildImage();
  const startup = await measureStartup(reps);
  const results: SizeResult[] = sizes.map((hosts) => ({
    hosts,
    floor: [],
    restartMs: [],
    crossCheck: [],
    runs: { lab: { first: [], noop: [] }, ansible: { first: [], noop: [] } },
    floorBefore: { lab: { first: [], noop: [] }, ansible: { first: [], noop: [] } },
  }));
  const fingerprints = sizes.map(() => ({}));
  const t0 = performance.now();
  const done: Record<Tool, number> = { lab: 0, ansible: 0 };
  let stopNote = "";
  rmSync(join(dirname(out), "runs"), { recursive: true, force: true });
  try {
    await warmUp(await freshSite(sizes[0] ?? 1), sizes[0] ?? 1);
    // Repetitions outermost: a bench cut short by the budget still has every size. When
    // a full repetition no longer fits, the remaining ones run lab (and its floor) only:
    // they take seconds, Ansible takes minutes.
    let tools: Tool[] = ["lab", "ansible"];
    let fullMs = 0;
    for (let rep = 1; rep <= reps; rep++) {
      const t = performance.now();
      for (const [i, r] of results.entries()) await repetition(r, rep, tools, fingerprints[i]!);
      for (const tool of tools) done[tool] = rep;
      if (tools.includes("ansible")) fullMs = Math.max(fullMs, performance.now() - t);
      const elapsed = performance.now() - t0;
      if (rep < reps && tools.includes("ansible") && elapsed + fullMs > budgetS * 1000) {
        tools = ["lab"];
        stopNote = `one more Ansible repetition would pass the ${budgetS} s budget (--budget)`;
        log(stopNote);
      }
      if (elapsed > budgetS * 1000) break;
    }
  } finally {
    await stopPrefix(PREFIX);
  }
  const load1 = readFileSync("/proc/loadavg", "utf8").trim();
  const restarts = results.flatMap((r) => r.restartMs);

  const md = [
    "# lab vs ansible-playbook: benchmark results",
    "",
    ...machine(),
    `- load average (1/5/15 min) at start: ${load0.split(" ").slice(0, 3).join(" ")}; at end: ${load1.split(" ").slice(0, 3).join(" ")}`,
    `- repetitions: lab and floor ${done.lab}, ansible-playbook ${done.ansible}${stopNote ? ` (${stopNote})` : ""}; median shown (min–max in brackets); total bench time ${((performance.now() - t0) / 1000).toFixed(0)} s` +
      (restarts.length
        ? ` (host restarts: median ${secs(restarts.sort((a, b) => a - b)[Math.floor(restarts.length / 2)] ?? NaN)})`
        : ""),
    "",
    "## Wall time",
    "",
    timeTable(results),
    "",
    "Targets:",
    "",
    targetLines(results),
    "",
    "## Start-up and `lab check` (no host)",
    "",
    startupTable(startup),
    "",
    "## Did both do the same thing?",
    "",
    checkTable(results),
    "",
    ...results.flatMap((r) => [`${r.hosts} hosts, repetition 1:`, "", ...r.crossCheck.map((c) => `- ${c}`), ""]),
    "## CPU and peak memory (controller side)",
    "",
    memoryTable(results),
    "",
    "CPU = `/usr/bin/time -v` user + system time of the tool and its waited-for children on the controller; the hosts' own work (Ansible's remote Python, lab's shell commands) runs in the containers, on the same 2 cores, and is not in it. " +
      'Largest process = `/usr/bin/time -v` "Maximum resident set size" (the kernel\'s maximum over every process of the tree, not a sum). ' +
      "Whole tree = /proc sampled every 100 ms: the command and all its descendants, plus Ansible's ssh ControlPersist masters (they daemonize out of the tree); " +
      "Σ RSS counts shared pages once per process (overstates forked Python workers), Σ PSS splits them between sharers.",
    "",
    ...(problems.length ? ["## Problems", "", ...problems.map((p) => `- ${p.replaceAll("\n", "\n  ")}`), ""] : []),
  ].join("\n");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, md);
  process.stdout.write(`\n${md}\n`);
  log(`written to ${relative(process.cwd(), out)}`);
  if (problems.length) process.exitCode = 1;
}

const interrupted = (sig: NodeJS.Signals) => {
  log(`${sig}: stopping the run in progress and removing the hosts`);
  killActive();
  void closeAllMasters().finally(() => stopPrefix(PREFIX).finally(() => process.exit(sig === "SIGINT" ? 130 : 143)));
};
process.once("SIGINT", interrupted);
process.once("SIGTERM", interrupted);

main().catch(async (e: unknown) => {
  log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  await stopPrefix(PREFIX).catch(() => undefined);
  process.exitCode = 2;
});
