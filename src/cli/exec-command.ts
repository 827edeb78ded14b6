// `lab exec PATTERN -- COMMAND`: an ad-hoc command on every matched host, in parallel
// (--forks), through the run context (same transports, strict host keys, redaction),
// with per-host output and exit code, and one audit record. It takes no lock: like
// `plan`, it must not wait for an apply (what it runs is the user's business).
import { ExitCode, LabError, UnreachableError, errorMessage } from "../errors.ts";
import { pool } from "../engine/runner.ts";
import { redact } from "../secrets/secret.ts";
import { quote } from "../sh.ts";
import { timeoutMs } from "../transport/timeouts.ts";
import { openWorkflow } from "./workflow-context.ts";

export interface ExecCommandOptions {
  root: string;
  inventory: string;
  pattern: string;
  /** One word: a shell command line as written (pipes, &&). Several: a command and its arguments, each quoted. */
  command: string[];
  forks: number;
  /** Per-host limit in seconds (default: the `command` kind's). */
  timeout?: number;
  argv?: string[];
  verbose?: boolean;
  signal?: AbortSignal;
  stdout?: NodeJS.WritableStream;
}

export interface HostExec {
  host: string;
  status: "ok" | "failed" | "unreachable";
  code?: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export const commandLine = (words: string[]): string => (words.length === 1 ? words[0]! : words.map(quote).join(" "));

export async function execCommand(o: ExecCommandOptions): Promise<{ code: ExitCode; hosts: HostExec[] }> {
  const out = o.stdout ?? process.stdout;
  const line = commandLine(o.command);
  if (!line.trim())
    throw new LabError(
      "lab exec: no command given",
      ExitCode.badInput,
      {},
      "lab exec PATTERN -- COMMAND, e.g. lab exec web -- uptime",
    );
  const t0 = performance.now();
  const { ctx } = await openWorkflow(o);
  const results: HostExec[] = [];
  try {
    const hosts = ctx.hosts(o.pattern, "lab exec").map((h) => h.name);
    if (hosts.length === 0) throw new LabError(`lab exec: no hosts matched ${o.pattern}`, ExitCode.badInput);
    await pool(hosts, o.forks, async (host) => {
      if (ctx.signal.aborted) return;
      const start = performance.now();
      const r = await ctx.exec(host, line, { timeoutMs: timeoutMs("command", o.timeout) }).then(
        (x): HostExec => ({
          host,
          status: x.code === 0 ? "ok" : "failed",
          code: x.code,
          stdout: x.stdout,
          stderr: x.stderr,
          durationMs: performance.now() - start,
        }),
        (e: unknown): HostExec => ({
          host,
          status: e instanceof UnreachableError ? "unreachable" : "failed",
          stdout: "",
          stderr: errorMessage(e),
          durationMs: performance.now() - start,
        }),
      );
      results.push(r);
      // Printed as each host finishes, as a block that is never interleaved with another host's.
      out.write(redact(formatHost(r)));
    });
    const statuses = results.map((r) => r.status);
    const code = ctx.signal.aborted
      ? ExitCode.interrupted
      : statuses.includes("failed")
        ? ExitCode.failed
        : statuses.includes("unreachable")
          ? ExitCode.unreachable
          : ExitCode.ok;
    out.write(
      `${results.filter((r) => r.status === "ok").length} ok, ${statuses.filter((s) => s === "failed").length} failed, ${statuses.filter((s) => s === "unreachable").length} unreachable\n`,
    );
    await ctx.audit({
      argv: o.argv ?? ["exec", o.pattern, "--", ...o.command],
      playbook: "(exec)",
      hosts,
      limit: o.pattern,
      check: false,
      changes: results.map((r) => ({
        host: r.host,
        resource: `exec:${line}`,
        summary:
          r.status === "unreachable" ? "unreachable" : r.code === undefined ? `failed: ${r.stderr}` : `exit ${r.code}`,
      })),
      outcome:
        code === ExitCode.ok
          ? "ok"
          : code === ExitCode.interrupted
            ? "interrupted"
            : code === ExitCode.failed
              ? "failed"
              : "unreachable",
      exitCode: code,
      durationMs: Math.round(performance.now() - t0),
    });
    return { code, hosts: results };
  } finally {
    await ctx.close();
  }
}

function formatHost(r: HostExec): string {
  const head = `${r.host} | ${r.status === "unreachable" ? "UNREACHABLE" : r.code === undefined ? "FAILED" : `rc=${r.code}`} | ${(r.durationMs / 1000).toFixed(2)}s >>\n`;
  const body = [r.stdout, r.stderr]
    .filter((s) => s !== "")
    .map((s) => (s.endsWith("\n") ? s : `${s}\n`))
    .join("");
  return head + body;
}
