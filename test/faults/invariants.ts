// What must hold after every fault. Each check returns the violations it found, as
// one line each naming the invariant, the host and what was seen.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ExitCode } from "../../src/errors.ts";
import type { TestHost } from "../hosts/hosts.ts";
import {
  BIG_PATH,
  CONFIG_PATH,
  SECRET_PATH,
  STACK,
  bigContent,
  configContent,
  secretContent,
  secretName,
  sha256,
} from "./content.ts";
import type { FaultLab } from "./lab.ts";
import type { Finished } from "./lab-run.ts";

const exec = promisify(execFile);

/** The exit codes `lab apply` documents (README "Exit codes"); 1 is a bug in lab. */
const DOCUMENTED = new Set<number>(Object.values(ExitCode).filter((c) => c !== ExitCode.internal));
const STACK_TRACE = /^\s+at .+:\d+:\d+\)?$|node:internal|Unhandled|UnhandledPromiseRejection/m;

export interface Report {
  exitCode: number;
  interrupted: boolean;
  hosts: Record<string, { status: string; changed: number }>;
  steps: { host: string; id: string; status: string; reason?: string }[];
}

/** The full `--json` report of a run that finished (or wound down after one signal). */
export function parseReport(stdout: string): Report | undefined {
  const r = parseJson(stdout) as Report | undefined;
  return r && typeof r.hosts === "object" ? r : undefined;
}

/** A recap of either form: the full report, or the one-line recap a second signal leaves (`{"aborted":true,...,"recap"}`). */
const hasRecap = (stdout: string): boolean => {
  const r = parseJson(stdout) as { hosts?: unknown; aborted?: boolean; recap?: unknown } | undefined;
  return !!r && (typeof r.hosts === "object" || (r.aborted === true && typeof r.recap === "string"));
};

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const auditLines = async (lab: FaultLab): Promise<string[]> =>
  (await readFile(join(lab.project.root, ".lab/audit.jsonl"), "utf8").catch(() => "")).split("\n").filter(Boolean);

/** Exit code, no stack trace, the recap and the audit record, no secret in the output. */
export async function checkRun(
  lab: FaultLab,
  f: Finished,
  opts: { killsLab: boolean; auditBefore: number },
): Promise<string[]> {
  const v: string[] = [];
  const out = `${f.stdout}\n${f.stderr}`;
  if (opts.killsLab) {
    if (f.signal !== "SIGKILL" && f.code === ExitCode.internal)
      v.push(`exit code: 1 (internal error) before the kill landed`);
  } else if (f.code === null) {
    v.push(`exit code: none, lab was killed by ${f.signal ?? "?"} (no recap, no audit record)`);
  } else if (!DOCUMENTED.has(f.code)) {
    v.push(`exit code: ${f.code} is not a documented exit code${f.code === 1 ? " (internal error)" : ""}`);
  }
  const trace = STACK_TRACE.exec(out);
  if (trace) v.push(`stack trace in the output: ${JSON.stringify(trace[0].trim())} (${firstLines(f.stderr)})`);
  for (const [name, value] of Object.entries(lab.secrets))
    if (out.includes(value)) v.push(`secret ${name} printed in lab's output`);
  if (opts.killsLab) return v;
  if (!hasRecap(f.stdout))
    v.push(`recap: no report on stdout (exit ${f.code ?? f.signal}; stderr: ${firstLines(f.stderr)})`);
  const audit = await auditLines(lab);
  if (audit.length !== opts.auditBefore + 1) {
    v.push(`audit record: ${audit.length - opts.auditBefore} new line(s) in .lab/audit.jsonl, expected 1`);
  } else {
    const rec = JSON.parse(audit.at(-1)!) as { exitCode: number };
    if (f.code !== null && rec.exitCode !== f.code)
      v.push(`audit record: says exit ${rec.exitCode}, lab exited ${f.code}`);
  }
  return v;
}

const firstLines = (s: string) => JSON.stringify(s.trim().split("\n").slice(-3).join(" | ").slice(0, 400));

/** The sha256 of each managed file of the plain hosts in a round. */
export function expected(lab: FaultLab, round: number): Record<string, string> {
  const name = secretName(round);
  return {
    [BIG_PATH]: sha256(bigContent(round)),
    [SECRET_PATH]: sha256(secretContent(lab.secrets[name]!, round)),
    [CONFIG_PATH]: sha256(configContent(round)),
  };
}

/** Run a script in a host's container with `input` on stdin (so no value of it lands in any argv). */
export const inHostWith = (container: string, script: string, input = ""): Promise<string> =>
  new Promise((done, fail) => {
    const c = execFile(
      "docker",
      ["exec", "-i", container, "sh", "-c", script],
      { timeout: 60_000, maxBuffer: 8 << 20 },
      (err, stdout, stderr) =>
        err && err.code !== 0 && !stdout ? fail(new Error(`${container}: ${stderr || err.message}`)) : done(stdout),
    );
    c.stdin?.end(input);
  });

async function shas(host: TestHost): Promise<Record<string, string>> {
  const paths = [BIG_PATH, SECRET_PATH, CONFIG_PATH];
  const out = await inHostWith(
    host.container,
    `for p in ${paths.join(" ")}; do if [ -e "$p" ]; then echo "$(sha256sum < "$p" | cut -c1-64) $(stat -c %s "$p") $p"; else echo "absent 0 $p"; fi; done`,
  );
  return Object.fromEntries(
    out
      .trim()
      .split("\n")
      .map((l) => {
        const [sha = "", size = "", path = ""] = l.split(" ");
        return [path, `${sha} ${size}`];
      }),
  );
}

/** Every managed file is whole: the old round's content or the new one's, by sha256. */
export async function checkFiles(
  lab: FaultLab,
  hosts: TestHost[],
  oldRound: number,
  newRound: number,
): Promise<string[]> {
  const old = expected(lab, oldRound);
  const fresh = expected(lab, newRound);
  const v: string[] = [];
  await Promise.all(
    hosts.map(async (h) => {
      for (const [path, got] of Object.entries(await shas(h))) {
        const sha = got.split(" ")[0];
        if (sha !== old[path] && sha !== fresh[path])
          v.push(
            `file ${h.name}:${path} is neither the old nor the new content (sha256 ${got.replace(" ", ", size ")} bytes)`,
          );
      }
    }),
  );
  return v;
}

/** Hosts that the fault did not hit finished their steps and hold the new content. */
export async function checkOthersFinished(
  lab: FaultLab,
  report: Report | undefined,
  others: string[],
  plain: TestHost[],
  newRound: number,
): Promise<string[]> {
  if (!report) return [];
  const v: string[] = [];
  for (const h of others) {
    const s = report.hosts[h]?.status;
    if (s !== "ok" && s !== "changed") {
      const bad = report.steps
        .filter((x) => x.host === h && x.status !== "ok" && x.status !== "changed")
        .map((x) => `${x.id}: ${x.status} ${x.reason ?? ""}`);
      v.push(`other hosts: ${h} did not finish (status ${s ?? "missing"}; ${bad.slice(0, 2).join("; ")})`);
    }
  }
  const fresh = expected(lab, newRound);
  await Promise.all(
    plain
      .filter((h) => others.includes(h.name))
      .map(async (h) => {
        for (const [path, got] of Object.entries(await shas(h))) {
          if (got.split(" ")[0] !== fresh[path])
            v.push(`other hosts: ${h.name}:${path} is not the new content after the run`);
        }
      }),
  );
  return v;
}

/**
 * runc's spec of a `docker exec` while it runs: it holds the container's environment, so a
 * Compose healthcheck of a service whose env_file has a secret passes through one. Docker's
 * file, not lab's.
 */
const runcSpec = (path: string): boolean => /^\/tmp\/runc-process\d+$/.test(path);

/**
 * No staged temp file and no copy of a secret outside the files that should hold it:
 * on every host (/tmp, /dev/shm, the managed directories, the stacks' root) and on this
 * machine (files under the temp dirs changed since the run started). A remote leftover
 * gets a few seconds to go away (the remote side of a dropped session ends on its own).
 */
export async function checkLeftovers(lab: FaultLab, since: string): Promise<string[]> {
  // The values go to grep on stdin: in an argv they would land in /proc and runc's process files.
  const patterns = `${Object.values(lab.secrets).join("\n")}\n`;
  const stacks = lab.docker.stacksRoot;
  const legit = (path: string) =>
    path === SECRET_PATH || new RegExp(`^${stacks}/${STACK}/rev-[0-9a-f]+/app\\.env$`).test(path);
  const dirs = `/tmp /dev/shm /srv/faults ${stacks}`;
  const v: string[] = [];
  await Promise.all(
    lab.allHosts().map(async (h) => {
      let found: string[] = [];
      for (let i = 0; i < 20; i++) {
        const out = await inHostWith(
          h.container,
          `find ${dirs} -name '.lab-tmp*' 2>/dev/null; grep -rlF -f - ${dirs} 2>/dev/null; true`,
          patterns,
        );
        found = [...new Set(out.split("\n").filter((p) => p && !legit(p) && !runcSpec(p)))];
        if (found.length === 0) return;
        await new Promise((r) => setTimeout(r, 500));
      }
      for (const p of found)
        v.push(
          `leftover on ${h.name}: ${p}${p.includes(".lab-tmp") ? " (staged temp file)" : " (holds a secret value)"}`,
        );
    }),
  );
  // This machine: files under the temp dirs changed since the run started, read here (no grep argv).
  const changed = (
    await exec(
      "sh",
      ["-c", `find /tmp /dev/shm -xdev -maxdepth 4 -type f -newer '${since}' -size -20M 2>/dev/null; true`],
      { maxBuffer: 8 << 20 },
    )
  ).stdout;
  const values = Object.values(lab.secrets);
  const local: string[] = [];
  for (const p of changed.split("\n").filter(Boolean)) {
    const text = await readFile(p, "latin1").catch(() => "");
    if (values.some((s) => text.includes(s))) local.push(p);
  }
  for (const p of local.filter((x) => !legit(x) && !runcSpec(x)))
    v.push(`leftover on this machine: ${p} holds a secret value`);
  return v;
}
