// Run one command and measure it: wall time (spawn -> exit, monotonic clock), the
// largest single process's peak RSS (`/usr/bin/time -v`, "Maximum resident set
// size": the kernel's max over every waited-for process of the tree), and the
// peak of the whole tree's summed RSS and PSS, sampled from /proc.
//
// The tree = the command and its descendants (walked through /proc/PID/task/TID/children,
// so a sample reads only the tree's own files), plus any process `extra` claims: ssh
// ControlPersist masters daemonize away from the tree, but they are part of Ansible's
// work and memory; a slower full /proc scan (once a second) finds them.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Measurement {
  wallMs: number;
  code: number;
  stdout: string;
  stderr: string;
  /** CPU seconds (user + system) of the command and its waited-for descendants, from /usr/bin/time -v. */
  cpuS: number;
  /** Largest single process of the tree (kB), from /usr/bin/time -v. */
  maxRssKb: number;
  /** Peak of the summed RSS of the tree (kB; shared pages counted once per process). */
  treeRssKb: number;
  /** Peak of the summed PSS of the tree (kB; shared pages split between sharers). */
  treePssKb: number;
  /** Most processes seen at once in the tree. */
  treeProcs: number;
  samples: number;
}

export interface MeasureOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Count this process too (pid, comm, cmdline) though it left the session. */
  extra?: (comm: string, cmdline: () => string) => boolean;
  sampleMs?: number;
  timeoutMs?: number;
}

function memory(pid: number): { rss: number; pss: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const rss = /^Rss:\s+(\d+) kB/m.exec(text);
    const pss = /^Pss:\s+(\d+) kB/m.exec(text);
    return { rss: Number(rss?.[1] ?? 0), pss: Number(pss?.[1] ?? 0) };
  } catch {
    return undefined;
  }
}

const readOr = (path: string, fallback: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return fallback;
  }
};

/** root and every live descendant. */
function descendants(root: number): number[] {
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    out.push(pid);
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      /* gone */
    }
    for (const t of tasks) {
      for (const c of readOr(`/proc/${pid}/task/${t}/children`, "").split(" ")) if (c) stack.push(Number(c));
    }
  }
  return out;
}

/** Full /proc scan for processes outside the tree that `extra` claims (slow: run rarely). */
function scanExtra(extra: NonNullable<MeasureOptions["extra"]>, seen: Map<number, boolean>): void {
  for (const name of readdirSync("/proc")) {
    if (name.charCodeAt(0) > 57) continue;
    const pid = Number(name);
    if (seen.has(pid)) continue;
    const comm = readOr(`/proc/${pid}/comm`, "").trim();
    seen.set(
      pid,
      extra(comm, () => readOr(`/proc/${pid}/cmdline`, "").replaceAll("\0", " ")),
    );
  }
}

/** Process groups of the commands running now (each is started in its own session). */
const active = new Set<number>();

/** Kill every command still running (the bench was interrupted). */
export function killActive(): void {
  for (const pid of active) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
}

export function measure(argv: string[], opts: MeasureOptions = {}): Promise<Measurement> {
  const dir = mkdtempSync(join(tmpdir(), "lab-bench-time-"));
  const timeFile = join(dir, "time.txt");
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error("measure: empty command");
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // detached: the child calls setsid(), so its session id is its pid.
    const child = spawn("/usr/bin/time", ["-v", "-o", timeFile, cmd, ...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    if (child.pid !== undefined) active.add(child.pid);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    const peak = { rss: 0, pss: 0, procs: 0, samples: 0 };
    const seen = new Map<number, boolean>();
    let lastScan = 0;
    const tick = () => {
      if (child.pid === undefined) return;
      if (opts.extra && performance.now() - lastScan > 1000) {
        scanExtra(opts.extra, seen);
        lastScan = performance.now();
      }
      const pids = new Set(descendants(child.pid));
      pids.delete(child.pid); // /usr/bin/time itself
      for (const [pid, mine] of seen) if (mine) pids.add(pid);
      let rss = 0;
      let pss = 0;
      let procs = 0;
      for (const pid of pids) {
        const m = memory(pid);
        if (!m) continue;
        rss += m.rss;
        pss += m.pss;
        procs++;
      }
      peak.samples++;
      peak.rss = Math.max(peak.rss, rss);
      peak.pss = Math.max(peak.pss, pss);
      peak.procs = Math.max(peak.procs, procs);
    };
    const sampler = setInterval(tick, opts.sampleMs ?? 100);
    const killer = opts.timeoutMs
      ? setTimeout(() => {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        }, opts.timeoutMs)
      : undefined;
    child.once("error", (e) => {
      clearInterval(sampler);
      clearTimeout(killer);
      reject(e);
    });
    child.once("exit", (code, signal) => {
      const wallMs = performance.now() - t0;
      if (child.pid !== undefined) active.delete(child.pid);
      clearInterval(sampler);
      clearTimeout(killer);
      // Wait for stdio to drain, but never for a stray grandchild holding the pipe.
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        let timeText = "";
        try {
          timeText = readFileSync(timeFile, "utf8");
        } catch {
          /* time could not write: reported as 0 */
        }
        rmSync(dir, { recursive: true, force: true });
        const cpu = (label: string) =>
          Number(new RegExp(`${label} time \\(seconds\\): ([\\d.]+)`).exec(timeText)?.[1] ?? NaN);
        const maxRss = /Maximum resident set size \(kbytes\): (\d+)/.exec(timeText);
        // time -v exits with the command's status; "Command terminated by signal" otherwise.
        resolve({
          wallMs,
          code: code ?? (signal ? 128 : 1),
          stdout: Buffer.concat(out).toString(),
          stderr: Buffer.concat(err).toString(),
          cpuS: cpu("User") + cpu("System"),
          maxRssKb: Number(maxRss?.[1] ?? 0),
          treeRssKb: peak.rss,
          treePssKb: peak.pss,
          treeProcs: peak.procs,
          samples: peak.samples,
        });
      };
      const guard = setTimeout(finish, 3000);
      let open = 2;
      const closed = () => {
        if (--open === 0) {
          clearTimeout(guard);
          finish();
        }
      };
      if (child.stdout.readableEnded) closed();
      else child.stdout.once("close", closed);
      if (child.stderr.readableEnded) closed();
      else child.stderr.once("close", closed);
    });
  });
}
