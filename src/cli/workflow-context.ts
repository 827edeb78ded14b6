// The first step of every workflow command (`lab backup`, `lab drill`): its logger
// (redacted, debug only with -v) and the run context with VM guests resolvable.
import { RunContext } from "../engine/context.ts";
import type { Logger } from "../engine/types.ts";
import { redact } from "../secrets/secret.ts";

/** What every workflow command takes (`lab backup`, `lab schedule`, ...): where the project is, how to report. */
export interface WorkflowOptions {
  root: string;
  inventory: string;
  /** Backup policy file (default backups/policy.yaml). */
  policy?: string;
  json: boolean;
  verbose?: boolean;
  argv?: string[];
  signal?: AbortSignal;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** Tests: a fixed clock. */
  now?: () => Date;
}

export async function openWorkflow(o: {
  root: string;
  inventory: string;
  verbose?: boolean;
  signal?: AbortSignal;
  stderr?: NodeJS.WritableStream;
}): Promise<{ ctx: RunContext; log: Logger }> {
  const stderr = o.stderr ?? process.stderr;
  const log: Logger = {
    debug: (m) => {
      if (o.verbose) stderr.write(`lab: debug: ${redact(m)}\n`);
    },
    warn: (m) => stderr.write(`lab: warning: ${redact(m)}\n`),
  };
  const signal = o.signal ?? new AbortController().signal;
  const guests = (await import("../proxmox/resources/guest.ts")).guestResolver;
  return { ctx: await RunContext.open({ root: o.root, inventory: o.inventory, signal, log, guests }), log };
}
