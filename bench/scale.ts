// The scale bench (issue #15): lab and the `ssh true` floor (not Ansible) on many
// hosts. 200 real sshd listeners come from a few containers, each ONE sshd with up
// to 50 ListenAddress lines (127.0.51.x only; MaxStartups raised so a burst of
// handshakes is not dropped). Per size: a first run (fresh folders), then
// repetitions of floor / no-op lab apply, alternating which goes first. Prints a
// table next to the targets and writes bench/results/scale.md and scale.svg (time
// against hosts for lab, the floor and, from bench/results/points.json when
// `npm run bench` wrote it, Ansible).
//
// Usage: npx tsx bench/scale.ts [--sizes 25,100,200] [--reps 2]
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { DEFAULT_IMAGE, buildImage, type TestLab } from "../test/hosts/hosts.ts";
import { measure, type Measurement } from "./measure.ts";
import { plotSvg } from "./plot.ts";
import { LAB_BIN, REPO, floor } from "./tools.ts";

const run = promisify(execFile);
const PREFIX = "lab-speed-scale";
const SUBNET = "127.0.51";
const PER_SSHD = 16;
const PER_CONTAINER = 3 * PER_SSHD;
const STATE = join(REPO, ".cache/bench-scale");
const ROOT = join(REPO, "bench/site/scale");
const RESULTS = join(REPO, "bench/results");

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return (i > 0 ? process.argv[i + 1] : undefined) ?? process.env[`BENCH_SCALE_${name.toUpperCase()}`] ?? fallback;
}
const sizes = option("sizes", "25,100,200")
  .split(",")
  .map(Number)
  .filter((n) => n > 0 && n <= 250);
const reps = Number(option("reps", "2"));
const log = (s: string) => process.stderr.write(`scale: ${s}\n`);
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN;

async function stopAll(): Promise<void> {
  const ids = (await run("docker", ["ps", "-aq", "--filter", `label=lab.testhost.prefix=${PREFIX}`])).stdout.trim();
  if (ids) await run("docker", ["rm", "-f", ...ids.split(/\s+/)]);
}

/** `count` hosts s001..: ceil(count / 50) containers, each one sshd listening on its hosts' addresses. */
async function startListeners(count: number): Promise<TestLab> {
  await stopAll();
  await mkdir(STATE, { recursive: true, mode: 0o700 });
  const keyFile = join(STATE, "id_ed25519");
  if (!existsSync(keyFile)) await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyFile]);
  const clientPub = (await readFile(`${keyFile}.pub`, "utf8")).trim();
  const hosts: TestLab["hosts"] = [];
  const known: string[] = [];
  for (let c = 0; c * PER_CONTAINER < count; c++) {
    const container = `${PREFIX}-${c}`;
    const hostKey = join(STATE, `host_key_${c}`);
    if (!existsSync(hostKey)) await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
    const pub = (await readFile(`${hostKey}.pub`, "utf8")).trim().split(/\s+/).slice(0, 2).join(" ");
    const mine = Array.from({ length: Math.min(PER_CONTAINER, count - c * PER_CONTAINER) }, (_, i) => {
      const n = c * PER_CONTAINER + i + 1;
      return {
        name: `s${String(n).padStart(3, "0")}`,
        address: `${SUBNET}.${n + 1}`,
        port: 2222,
        container,
        hostKeyPub: pub,
      };
    });
    hosts.push(...mine);
    known.push(...mine.map((h) => `[${h.address}]:2222 ${pub}`));
    await run("docker", [
      "run",
      "-d",
      "--init",
      "--name",
      container,
      "--network",
      "host",
      "--label",
      `lab.testhost.prefix=${PREFIX}`,
      "-v",
      `${hostKey}:/etc/ssh/ssh_host_ed25519_key:ro`,
      "-e",
      `LAB_AUTHORIZED_KEYS=${clientPub}`,
      DEFAULT_IMAGE,
      "/bin/sh",
      "-c",
      sshds(mine.map((h) => h.address)),
    ]);
  }
  const knownHostsFile = join(STATE, "known_hosts");
  await writeFile(knownHostsFile, `${known.join("\n")}\n`, { mode: 0o600 });
  // Ready when the last address of every sshd answers with an SSH banner.
  const deadline = Date.now() + 60_000;
  for (const h of hosts.filter((_, i) => i % PER_SSHD === PER_SSHD - 1 || i === hosts.length - 1)) {
    const up = () =>
      run("bash", ["-c", `exec 3<>/dev/tcp/${h.address}/2222`]).then(
        () => true,
        () => false,
      );
    while (!(await up())) {
      if (Date.now() > deadline) throw new Error(`sshd on ${h.address}:2222 not ready in 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { hosts, stateDir: STATE, keyFile, knownHostsFile, stop: stopAll, stopHost: () => Promise.resolve() };
}

/** One sshd per 16 addresses, all in the foreground of one shell. */
function sshds(addresses: string[]): string {
  const groups: string[][] = [];
  for (let i = 0; i < addresses.length; i += PER_SSHD) groups.push(addresses.slice(i, i + PER_SSHD));
  const one = (g: string[]) =>
    `/usr/sbin/sshd -D -e -p 2222 -h /etc/ssh/ssh_host_ed25519_key -o MaxStartups=1000 ${g.map((a) => `-o ListenAddress=${a}`).join(" ")} &`;
  return `${groups.map(one).join("\n")}\nwait`;
}

async function inventory(lab: TestLab, n: number): Promise<string> {
  const file = join(STATE, `inventory-${n}.yaml`);
  const hs = lab.hosts.slice(0, n);
  await writeFile(
    file,
    stringify({
      connection: { user: "root", key_file: lab.keyFile, known_hosts: lab.knownHostsFile },
      groups: { scale: { hosts: hs.map((h) => h.name) } },
      hosts: Object.fromEntries(hs.map((h) => [h.name, { address: h.address, port: h.port }])),
    }),
  );
  return file;
}

interface LabRun {
  m: Measurement;
  changed: number;
  failed: number;
  roundTrips: number[];
  engineMs: number;
  /** The first distinct reasons of failed or unreachable steps. */
  why: string[];
}

async function labApply(inv: string, n: number): Promise<LabRun> {
  const m = await measure(["node", LAB_BIN, "-C", ROOT, "-i", inv, "apply", "-y", "--forks", String(n), "--json"], {
    cwd: REPO,
    timeoutMs: 300_000,
  });
  try {
    const r = JSON.parse(m.stdout) as {
      durationMs: number;
      hosts: Record<string, { changed: number; failed: number; unreachable: number; roundTrips: number }>;
      steps: { host: string; status: string; reason?: string }[];
    };
    const hs = Object.values(r.hosts);
    return {
      m,
      changed: hs.reduce((a, h) => a + h.changed, 0),
      failed: hs.filter((h) => h.failed || h.unreachable).length + (n - hs.length),
      roundTrips: hs.map((h) => h.roundTrips),
      engineMs: r.durationMs,
      why: [
        ...new Set(
          r.steps
            .filter((x) => x.status === "failed" || x.status === "unreachable")
            .map((x) => `${x.status}: ${x.reason ?? ""}`),
        ),
      ].slice(0, 3),
    };
  } catch {
    throw new Error(`lab printed no JSON (exit ${m.code}): ${m.stderr.trim().split("\n").slice(-5).join(" | ")}`);
  }
}

interface Row {
  hosts: number;
  first: LabRun;
  noop: LabRun[];
  floor: Measurement[];
}

async function main(): Promise<void> {
  const load0 = readFileSync("/proc/loadavg", "utf8").trim().split(" ").slice(0, 3).join(" ");
  log(`sizes ${sizes.join(", ")}; ${reps} repetitions; load average ${load0}`);
  await buildImage();
  const lab = await startListeners(Math.max(...sizes));
  const rows: Row[] = [];
  const problems: string[] = [];
  try {
    for (const n of sizes) {
      const inv = await inventory(lab, n);
      const site = { lab: { ...lab, hosts: lab.hosts.slice(0, n) }, labInventory: inv, ansibleConfig: "" };
      // Fresh folders for this size's first run.
      for (const c of new Set(site.lab.hosts.map((h) => h.container)))
        await run("docker", ["exec", c, "rm", "-rf", "/srv/scale"]);
      const first = await labApply(inv, n);
      log(
        `${n} hosts, first run: ${secs(first.m.wallMs)}, changed ${first.changed}, round trips/host max ${Math.max(...first.roundTrips)}`,
      );
      if (first.changed !== 3 * n || first.failed)
        problems.push(
          `${n} hosts: first run changed ${first.changed} of ${3 * n}, ${first.failed} hosts failed ${first.why.join(" | ")}`,
        );
      const row: Row = { hosts: n, first, noop: [], floor: [] };
      for (let rep = 0; rep < reps; rep++) {
        const pair = async (what: "lab" | "floor") => {
          if (what === "floor") {
            const f = await floor(site);
            if (f.failed.length) problems.push(`${n} hosts, floor: ${f.failed.join("; ")}`);
            row.floor.push(f.m);
          } else {
            const o = await labApply(inv, n);
            if (o.changed || o.failed)
              problems.push(
                `${n} hosts, no-op run: changed ${o.changed}, ${o.failed} hosts failed ${o.why.join(" | ")}`,
              );
            row.noop.push(o);
          }
        };
        for (const w of rep % 2 ? (["lab", "floor"] as const) : (["floor", "lab"] as const)) await pair(w);
        log(
          `${n} hosts, rep ${rep + 1}: floor ${secs(row.floor.at(-1)!.wallMs)}, lab no-op ${secs(row.noop.at(-1)!.m.wallMs)} (max RSS ${(row.noop.at(-1)!.m.maxRssKb / 1024).toFixed(0)} MB)`,
        );
      }
      rows.push(row);
    }
  } finally {
    await stopAll();
  }
  const load1 = readFileSync("/proc/loadavg", "utf8").trim().split(" ").slice(0, 3).join(" ");
  const md = report(rows, load0, load1, problems);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, "scale.md"), md);
  writeFileSync(join(RESULTS, "scale.svg"), plot(rows));
  process.stdout.write(`\n${md}\n`);
  log("written to bench/results/scale.md and bench/results/scale.svg");
  if (problems.length) process.exitCode = 1;
}

function report(rows: Row[], load0: string, load1: string, problems: string[]): string {
  const lines = [
    "# lab at scale: no-op run against the `ssh true` floor",
    "",
    `- load average (1/5/15 min) at start: ${load0}; at end: ${load1}; ${reps} repetitions, median shown`,
    `- hosts: ${Math.ceil(Math.max(...rows.map((r) => r.hosts)) / PER_CONTAINER)} containers, each with 3 sshd processes of up to ${PER_SSHD} ListenAddress lines (${SUBNET}.x:2222)`,
    "",
    "| hosts | floor | lab no-op | lab ÷ floor (target ≤ 1.5x at 200) | lab per host | engine | max RSS (target ≤ 200 MB) | first run | round trips/host, first run (target ≤ 3) |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of rows) {
    const f = median(r.floor.map((m) => m.wallMs));
    const l = median(r.noop.map((o) => o.m.wallMs));
    const ratio = median(r.noop.map((o, i) => o.m.wallMs / (r.floor[i]?.wallMs ?? NaN)));
    const rss = Math.max(...r.noop.map((o) => o.m.maxRssKb), r.first.m.maxRssKb) / 1024;
    const trips = Math.max(...r.first.roundTrips);
    lines.push(
      `| ${r.hosts} | ${secs(f)} | ${secs(l)} | ${ratio.toFixed(2)}x${r.hosts >= 200 ? (ratio <= 1.5 ? " ✅" : " ❌") : ""} | ${(l / r.hosts).toFixed(1)} ms | ${secs(median(r.noop.map((o) => o.engineMs)))} | ${rss.toFixed(0)} MB ${rss <= 200 ? "✅" : "❌"} | ${secs(r.first.m.wallMs)} | ${trips} ${trips <= 3 ? "✅" : "❌"} |`,
    );
  }
  // Linear in hosts: time per host at the largest size within 1.5x of that at the smallest measured >= 25.
  const big = rows.filter((r) => r.hosts >= 25);
  if (big.length >= 2) {
    const per = (r: Row) => median(r.noop.map((o) => o.m.wallMs)) / r.hosts;
    const k = per(big.at(-1)!) / per(big[0]!);
    lines.push(
      "",
      `Linear in hosts: no-op time per host at ${big.at(-1)!.hosts} hosts is ${k.toFixed(2)}x that at ${big[0]!.hosts} (target: ≤ 1x, i.e. not growing faster than the host count) ${k <= 1.05 ? "✅" : "❌"}`,
    );
  }
  lines.push(
    "",
    "Plot: bench/results/scale.svg (time against hosts: lab no-op, floor, Ansible no-op where `npm run bench` measured it).",
  );
  if (problems.length) lines.push("", "## Problems", "", ...problems.map((p) => `- ${p}`));
  return `${lines.join("\n")}\n`;
}

function plot(rows: Row[]): string {
  const pts = JSON.parse(
    existsSync(join(RESULTS, "points.json")) ? readFileSync(join(RESULTS, "points.json"), "utf8") : "[]",
  ) as {
    hosts: number;
    floor: number;
    lab: number;
    ansible?: number;
  }[];
  const merge = (mine: [number, number][], other: [number, number][]) => [
    ...mine,
    ...other.filter(([h]) => !mine.some(([x]) => x === h)),
  ];
  const lab = rows.map((r): [number, number] => [r.hosts, median(r.noop.map((o) => o.m.wallMs)) / 1000]);
  const fl = rows.map((r): [number, number] => [r.hosts, median(r.floor.map((m) => m.wallMs)) / 1000]);
  return plotSvg(
    "no-op run: wall time against host count",
    [
      {
        name: "lab apply (no-op)",
        color: "#1f77b4",
        points: merge(
          lab,
          pts.map((p) => [p.hosts, p.lab]),
        ),
      },
      {
        name: "ssh true (floor)",
        color: "#2ca02c",
        points: merge(
          fl,
          pts.map((p) => [p.hosts, p.floor]),
        ),
      },
      {
        name: "ansible-playbook",
        color: "#d62728",
        points: pts.filter((p) => p.ansible !== undefined).map((p) => [p.hosts, p.ansible!]),
      },
    ],
    "hosts",
    "seconds",
  );
}

const interrupted = (sig: NodeJS.Signals) => {
  log(`${sig}: removing the hosts`);
  void stopAll().finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
};
process.once("SIGINT", interrupted);
process.once("SIGTERM", interrupted);
main().catch(async (e: unknown) => {
  log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  await stopAll().catch(() => undefined);
  process.exitCode = 2;
});
