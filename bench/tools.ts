// The three contestants on one set of hosts: lab, ansible-playbook, and the floor
// (`ssh HOST true` to every host in parallel with OpenSSH). Each run is measured
// (measure.ts) and its output parsed into per-host changed counts, so the bench
// can check that a first run changes things and a no-op run changes nothing.
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import type { TestLab } from "../test/hosts/hosts.ts";
import { measure, type Measurement } from "./measure.ts";

const run = promisify(execFile);

export const REPO = resolve(import.meta.dirname, "..");
export const LAB_BIN = join(REPO, "bin/lab.mjs");
const LAB_ROOT = join(REPO, "bench/site/lab");
const ANSIBLE_DIR = join(REPO, "bench/site/ansible");
const RUN_TIMEOUT_MS = 300_000;

export type Tool = "lab" | "ansible";

/** One set of hosts with the inventories and config both tools need. */
export interface Site {
  lab: TestLab;
  labInventory: string;
  ansibleConfig: string;
}

export interface Outcome {
  m: Measurement;
  /** Changed count per host (missing host = it did not report). */
  changed: Record<string, number>;
  /** Hosts that failed or were unreachable, with why. */
  failed: string[];
  /** lab only: SSH round trips per host, and the engine's own duration. */
  roundTrips?: Record<string, number>;
  engineMs?: number;
}

/** The OpenSSH options both Ansible and the floor use: strict host keys, one known_hosts, one key. */
export function sshOptions(lab: TestLab): string[] {
  return [
    "-o",
    `UserKnownHostsFile=${lab.knownHostsFile}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    `IdentityFile=${lab.keyFile}`,
  ];
}

/** Inventories for both tools: odd hosts are "web", even ones "db"; the same vars on both sides. */
export async function writeSite(lab: TestLab, work: string): Promise<Site> {
  const web = lab.hosts.filter((_, i) => i % 2 === 0);
  const db = lab.hosts.filter((_, i) => i % 2 === 1);
  const allVars = { motd: "welcome", services: ["cron", "ssh"] };

  const labInventory = join(work, "lab-inventory.yaml");
  await writeFile(
    labInventory,
    stringify({
      connection: { user: "root", key_file: lab.keyFile, known_hosts: lab.knownHostsFile },
      vars: allVars,
      groups: {
        web: { hosts: web.map((h) => h.name), vars: { tier: "web" } },
        db: { hosts: db.map((h) => h.name), vars: { tier: "db" } },
      },
      hosts: Object.fromEntries(lab.hosts.map((h) => [h.name, { address: h.address, port: h.port }])),
    }),
  );

  const ansibleHosts = (hs: typeof lab.hosts) =>
    Object.fromEntries(hs.map((h) => [h.name, { ansible_host: h.address, ansible_port: h.port }]));
  const ansibleInventory = join(work, "ansible-inventory.yaml");
  await writeFile(
    ansibleInventory,
    stringify({
      all: {
        vars: allVars,
        children: {
          web: { hosts: ansibleHosts(web), vars: { tier: "web" } },
          db: { hosts: ansibleHosts(db), vars: { tier: "db" } },
        },
      },
    }),
  );
  const ansibleConfig = join(work, "ansible.cfg");
  await writeFile(
    ansibleConfig,
    [
      "[defaults]",
      `inventory = ${ansibleInventory}`,
      "remote_user = root",
      "host_key_checking = True",
      "gathering = explicit",
      // Skips interpreter discovery (one more round trip per host): Ansible's best case.
      "interpreter_python = /usr/bin/python3",
      "retry_files_enabled = False",
      "nocolor = True",
      "[ssh_connection]",
      "pipelining = True",
      // Ansible's default ssh_args (-C, ControlMaster, ControlPersist) plus the strict options.
      `ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s ${sshOptions(lab).join(" ")}`,
      "",
    ].join("\n"),
  );
  return { lab, labInventory, ansibleConfig };
}

const labArgs = (site: Site, ...args: string[]) => [LAB_BIN, "-C", LAB_ROOT, "-i", site.labInventory, ...args];

interface LabReport {
  exitCode: number;
  durationMs: number;
  hosts: Record<string, { changed: number; failed: number; unreachable: number; roundTrips: number }>;
  steps: { host: string; id: string; status: string; reason?: string }[];
}

export async function labApply(site: Site, forks: number): Promise<Outcome> {
  const m = await measure(["node", ...labArgs(site, "apply", "-y", "--forks", String(forks), "--json")], {
    cwd: REPO,
    timeoutMs: RUN_TIMEOUT_MS,
  });
  let report: LabReport;
  try {
    report = JSON.parse(m.stdout) as LabReport;
  } catch {
    return {
      m,
      changed: {},
      failed: [`lab printed no JSON report (exit ${m.code}): ${m.stderr.trim().split("\n").slice(-5).join(" | ")}`],
    };
  }
  const failed = report.steps
    .filter((s) => s.status === "failed" || s.status === "unreachable")
    .map((s) => `${s.host} ${s.id}: ${s.reason ?? s.status}`);
  if (m.code !== 0 && failed.length === 0)
    failed.push(`lab exited ${m.code}: ${m.stderr.trim().split("\n").slice(-3).join(" | ")}`);
  return {
    m,
    failed,
    changed: Object.fromEntries(Object.entries(report.hosts).map(([h, s]) => [h, s.changed])),
    roundTrips: Object.fromEntries(Object.entries(report.hosts).map(([h, s]) => [h, s.roundTrips])),
    engineMs: report.durationMs,
  };
}

/** `lab plan --detailed-exitcode`: 0 = the hosts already are as the playbook says. */
export async function labPlanIsClean(site: Site, forks: number): Promise<{ clean: boolean; output: string }> {
  try {
    await run("node", labArgs(site, "plan", "--forks", String(forks), "--detailed-exitcode"), {
      cwd: REPO,
      maxBuffer: 64 << 20,
    });
    return { clean: true, output: "" };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number };
    return { clean: false, output: `exit ${err.code}: ${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

/** The fixed cost of starting lab (node + tsx + the CLI's modules), no host contacted. */
const RECAP = /^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm;

/** ControlPath dirs of Ansible runs in progress: their masters outlive an interrupted run. */
const controlDirs = new Set<string>();

export async function closeAllMasters(): Promise<void> {
  await Promise.all([...controlDirs].map(closeMasters));
}

export async function ansibleRun(site: Site, forks: number, check = false): Promise<Outcome> {
  // A fresh ControlPath dir per run: masters never carry over from one run to the next.
  const controlDir = await mkdtemp(join(tmpdir(), "lab-bench-cp-"));
  controlDirs.add(controlDir);
  try {
    const m = await measure(["ansible-playbook", "-f", String(forks), ...(check ? ["--check"] : []), "site.yml"], {
      cwd: ANSIBLE_DIR,
      env: {
        ...process.env,
        ANSIBLE_CONFIG: site.ansibleConfig,
        ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
        ANSIBLE_NOCOLOR: "1",
      },
      extra: (comm, cmdline) => comm === "ssh" && cmdline().startsWith(`ssh: ${controlDir}/`),
      timeoutMs: RUN_TIMEOUT_MS,
    });
    const changed: Record<string, number> = {};
    const failed: string[] = [];
    for (const r of m.stdout.matchAll(RECAP)) {
      const [, host = "?", , ch, unreachable, fail] = r;
      changed[host] = Number(ch);
      if (Number(unreachable) || Number(fail)) failed.push(`${host}: unreachable=${unreachable} failed=${fail}`);
    }
    if (m.code !== 0) {
      const fatal = m.stdout
        .split("\n")
        .filter((l) => /^(fatal|failed|ERROR)/.test(l))
        .slice(0, 3)
        .join(" | ");
      failed.push(`ansible-playbook exited ${m.code}: ${fatal || m.stderr.trim().split("\n").slice(-3).join(" | ")}`);
    }
    return { m, changed, failed };
  } finally {
    await closeMasters(controlDir);
  }
}

async function closeMasters(controlDir: string): Promise<void> {
  controlDirs.delete(controlDir);
  const sockets = await readdir(controlDir).catch(() => [] as string[]);
  await Promise.all(
    sockets.map((s) =>
      run("ssh", ["-o", `ControlPath=${join(controlDir, s)}`, "-O", "exit", "bench"]).catch(() => undefined),
    ),
  );
  await rm(controlDir, { recursive: true, force: true });
}

/** The floor: one OpenSSH `true` per host, all at once (same key, known_hosts and options as Ansible). */
export async function floor(site: Site): Promise<Outcome> {
  const opts = ["-C", "-o", "BatchMode=yes", ...sshOptions(site.lab)].map((o) => `'${o}'`).join(" ");
  const script = [
    "pids=()",
    ...site.lab.hosts.map((h) => `ssh ${opts} -p ${h.port} root@${h.address} true & pids+=($!)`),
    'rc=0; for p in "${pids[@]}"; do wait "$p" || rc=1; done; exit $rc',
  ].join("\n");
  const m = await measure(["bash", "-c", script], { timeoutMs: 60_000 });
  return {
    m,
    changed: {},
    failed: m.code === 0 ? [] : [`ssh true failed on some host: ${m.stderr.trim().split("\n").slice(-3).join(" | ")}`],
  };
}

/** What the playbook manages on each host, read without either tool (docker exec). */
export async function fingerprint(site: Site): Promise<Record<string, string>> {
  const script = [
    "cd /",
    "for f in /etc/bench /etc/bench/motd /etc/bench/static.conf /etc/bench/settings.conf /etc/cron.d/bench-heartbeat; do stat -c '%n %F %a %U:%G' \"$f\" 2>&1; done",
    "sha256sum /etc/bench/motd /etc/bench/static.conf /etc/bench/settings.conf /etc/cron.d/bench-heartbeat 2>&1",
    "echo entries: $(ls -A /etc/bench)",
    "/etc/init.d/cron status >/dev/null 2>&1 && echo cron running || echo cron stopped",
    "echo rc2: $(ls /etc/rc2.d | grep cron)",
    "dpkg-query -W -f='${Package} ${Status}\\n' cron procps",
  ].join("\n");
  const entries = await Promise.all(
    site.lab.hosts.map(async (h) => {
      const r = await run("docker", ["exec", h.container, "sh", "-c", script]).catch(
        (e: { stdout?: string; message: string }) => ({ stdout: `docker exec failed: ${e.message}` }),
      );
      return [h.name, r.stdout] as const;
    }),
  );
  return Object.fromEntries(entries);
}
