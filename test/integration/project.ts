// A throwaway lab project for integration tests: inventory pointing at the real
// sshd test hosts, playbooks and templates written from strings, and the real
// CLI (`bin/lab.mjs`) run as a child process.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { stringify } from "yaml";
import type { TestLabData } from "../hosts/hosts.ts";

export const REPO = resolve(import.meta.dirname, "../..");
export const LAB_BIN = join(REPO, "bin/lab.mjs");
/** Playbooks in a test project import the engine from the repo by absolute path. */
export const LAB_API = join(REPO, "src/index.ts");

export interface LabRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestProject {
  root: string;
  /** Run the real CLI; `stdin` is written to it (e.g. `secrets set NAME` reads the value there). */
  lab(args: string[], opts?: { timeoutMs?: number; env?: Record<string, string>; stdin?: string }): Promise<LabRun>;
  /** `lab apply --json` parsed. */
  applyJson(args?: string[], opts?: { env?: Record<string, string> }): Promise<{ run: LabRun; report: JsonReport }>;
  write(path: string, text: string): Promise<void>;
}

export interface JsonReport {
  exitCode: number;
  hosts: Record<
    string,
    { ok: number; changed: number; failed: number; unreachable: number; status: string; roundTrips: number }
  >;
  steps: { host: string; id: string; status: string; reason?: string; changes: { summary: string; diff?: string }[] }[];
}

export interface ProjectOptions {
  /** Inventory host entries by name; address/port filled from the test lab when the name matches. */
  hosts?: Record<string, Record<string, unknown>>;
  groups?: Record<string, unknown>;
  vars?: Record<string, unknown>;
  files?: Record<string, string>;
  knownHosts?: string;
}

export async function makeProject(lab: TestLabData, opts: ProjectOptions = {}): Promise<TestProject> {
  const root = await mkdtemp(join(tmpdir(), "lab-it-"));
  const write = async (path: string, text: string) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  };
  const hosts: Record<string, Record<string, unknown>> = {};
  for (const h of lab.hosts) hosts[h.name] = { address: h.address, port: h.port };
  for (const [name, extra] of Object.entries(opts.hosts ?? {})) hosts[name] = { ...(hosts[name] ?? {}), ...extra };
  await write("package.json", JSON.stringify({ type: "module", private: true }));
  await write(
    "inventory/hosts.yaml",
    stringify({
      connection: { user: "root", key_file: lab.keyFile, known_hosts: opts.knownHosts ?? lab.knownHostsFile },
      vars: opts.vars ?? {},
      groups: opts.groups ?? { web: { hosts: ["web1", "web2"] }, db: { hosts: ["db1"] } },
      hosts,
    }),
  );
  for (const [path, text] of Object.entries(opts.files ?? {})) await write(path, text.replaceAll("@lab", LAB_API));

  const lab_ = (args: string[], o: { timeoutMs?: number; env?: Record<string, string>; stdin?: string } = {}) =>
    new Promise<LabRun>((done) => {
      const child = execFile(
        "node",
        [LAB_BIN, "-C", root, ...args],
        { cwd: root, timeout: o.timeoutMs ?? 120_000, maxBuffer: 32 << 20, env: { ...process.env, ...o.env } },
        (err, stdout, stderr) =>
          done({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
      );
      child.stdin?.end(o.stdin ?? "");
    });
  return {
    root,
    write,
    lab: lab_,
    async applyJson(args = [], opts = {}) {
      const run = await lab_(["apply", "-y", "--json", ...args], opts);
      let report: JsonReport;
      try {
        report = JSON.parse(run.stdout) as JsonReport;
      } catch {
        throw new Error(`lab apply --json printed no JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
      }
      return { run, report };
    },
  };
}

export const changedCount = (r: JsonReport): number => Object.values(r.hosts).reduce((n, h) => n + h.changed, 0);

/** Run a command inside a test host's container (to check what lab did, independently of lab). */
export function inHost(container: string, script: string): Promise<LabRun> {
  return new Promise((done) => {
    execFile("docker", ["exec", container, "sh", "-c", script], { timeout: 30_000 }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}
