// The bench's start-up and `lab check` figures: `lab --help` and `lab --version` next to
// `node -e 0` (interleaved, so load drift hits all three alike), and `lab check` of the
// example lab, warm (nothing changed since the last check) and right after a role changed.
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { measure, type Measurement } from "./measure.ts";
import { median } from "./report.ts";
import { LAB_BIN, REPO } from "./tools.ts";

export interface StartupResult {
  node: Measurement[];
  help: Measurement[];
  version: Measurement[];
  checkWarm: Measurement[];
  checkChanged: Measurement[];
  /** lab ran from its build (dist/), not from src/ through tsx. */
  built: boolean;
}

const STARTUP_MARGIN_MS = 150;
const CHECK_WARM_MS = 3000;
const CHECK_CHANGED_MS = 5000;

/** The example lab's project files in a temp folder; lab's src/ and node_modules/ linked (one engine, one build). */
function exampleLab(): string {
  const dir = mkdtempSync(join(tmpdir(), "lab-bench-check-"));
  for (const f of ["playbooks", "roles", "inventory", "templates", "backups", "tsconfig.json", "package.json"])
    cpSync(join(REPO, f), join(dir, f), { recursive: true });
  for (const f of ["src", "node_modules"]) symlinkSync(join(REPO, f), join(dir, f));
  return dir;
}

function ok(m: Measurement, what: string): Measurement {
  if (m.code !== 0) throw new Error(`${what} exited ${m.code}:\n${m.stdout.slice(-2000)}\n${m.stderr.slice(-2000)}`);
  return m;
}

export async function measureStartup(reps: number): Promise<StartupResult> {
  const r: StartupResult = { node: [], help: [], version: [], checkWarm: [], checkChanged: [], built: false };
  const lab = (args: string[], cwd = REPO) => measure(["node", LAB_BIN, ...args], { cwd });
  // Not measured: the page cache.
  await lab(["--help"]);
  for (let i = 0; i < Math.max(reps, 5); i++) {
    r.node.push(ok(await measure(["node", "-e", "0"], { cwd: REPO }), "node -e 0"));
    r.help.push(ok(await lab(["--help"]), "lab --help"));
    r.version.push(ok(await lab(["--version"]), "lab --version"));
  }
  const { fresh } = (await import(join(REPO, "bin/build.mjs"))) as { fresh: () => boolean };
  r.built = fresh();
  const dir = exampleLab();
  try {
    const check = async () => ok(await lab(["-C", dir, "check"], dir), "lab check");
    await check(); // fills the cache (.lab/check/) and tsx's
    const role = join(dir, "roles/base.ts");
    const original = readFileSync(role, "utf8");
    for (let i = 0; i < reps; i++) {
      r.checkWarm.push(await check());
      // A change that alters the role's exports: the role and what imports it are checked again.
      writeFileSync(role, `${original}\nexport const benchEdit${i} = ${i};\n`);
      r.checkChanged.push(await check());
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return r;
}

const wall = (ms: Measurement[]) => median(ms.map((m) => m.wallMs));
const cpu = (ms: Measurement[]) => median(ms.map((m) => m.cpuS * 1000));
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const range = (ms: Measurement[]) =>
  `${s(Math.min(...ms.map((m) => m.wallMs)))}–${s(Math.max(...ms.map((m) => m.wallMs)))}`;
const mark = (ok: boolean) => (ok ? "✅" : "❌");

export function startupTable(r: StartupResult): string {
  const node = wall(r.node);
  const row = (what: string, ms: Measurement[], target: string, met?: boolean) =>
    `| ${what} | ${s(wall(ms))} (${range(ms)}) | ${s(cpu(ms))} | ${target} | ${met === undefined ? "" : mark(met)} |`;
  return [
    `lab ran from ${r.built ? "its build (dist/, `npm run build`)" : "src/ through tsx (no fresh build: run `npm run build`)"}; median of ${r.help.length} runs each, interleaved.`,
    "",
    "| command | wall (min–max) | CPU (user+sys) | target | |",
    "|---|---:|---:|---|---|",
    row("`node -e 0`", r.node, "-"),
    row(
      "`lab --help`",
      r.help,
      `≤ node -e 0 + 0.15 s (${s(node + STARTUP_MARGIN_MS)})`,
      wall(r.help) <= node + STARTUP_MARGIN_MS,
    ),
    row(
      "`lab --version`",
      r.version,
      `≤ node -e 0 + 0.15 s (${s(node + STARTUP_MARGIN_MS)})`,
      wall(r.version) <= node + STARTUP_MARGIN_MS,
    ),
    row("`lab check`, example lab, warm", r.checkWarm, "< 3 s", wall(r.checkWarm) < CHECK_WARM_MS),
    row(
      "`lab check`, example lab, after a role changed",
      r.checkChanged,
      "< 5 s",
      wall(r.checkChanged) < CHECK_CHANGED_MS,
    ),
  ].join("\n");
}
