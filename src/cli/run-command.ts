// `lab plan` and `lab apply`: a plain async function (testable without argv)
// that returns the exit code and writes to the given streams.
import { ExitCode } from "../errors.ts";
import { redact } from "../secrets/secret.ts";
import { formatChanges, formatRecap, jsonReport } from "../engine/output.ts";
import { ListrReporter, PlainReporter } from "../engine/progress.ts";
import { run, type RunOptions, type RunResult } from "../engine/runner.ts";
import type { Logger } from "../engine/types.ts";

export interface RunCommandOptions extends Omit<RunOptions, "reporter" | "log" | "signal"> {
  json: boolean;
  verbose: boolean;
  /** plan only: exit 10 when there are changes. */
  detailedExitCode?: boolean;
  signal?: AbortSignal;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

export async function runCommand(opts: RunCommandOptions): Promise<{ code: ExitCode; result: RunResult }> {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const log: Logger = {
    debug: (m) => { if (opts.verbose) stderr.write(`lab: debug: ${redact(m)}\n`); },
    warn: (m) => stderr.write(`lab: warning: ${redact(m)}\n`),
  };
  const reporter = stderr.isTTY && !opts.json ? new ListrReporter() : new PlainReporter(stderr, opts.verbose);
  const result = await run({ ...opts, reporter, log, signal: opts.signal ?? new AbortController().signal });
  if (opts.json) stdout.write(`${jsonReport(result)}\n`);
  else stdout.write(`${formatChanges(result, opts.verbose)}\n${formatRecap(result)}\n`);
  const changed = Object.values(result.hosts).some((h) => h.changed > 0);
  const code = result.exitCode === ExitCode.ok && opts.check && opts.detailedExitCode && changed ? ExitCode.planHasChanges : result.exitCode;
  return { code, result };
}
