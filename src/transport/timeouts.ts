// How long a remote command may run, by kind. Every command a transport runs
// has a limit: a fact, an apt call or an init script that hangs must not hold
// the run (and every other host waiting on the forks) forever.
import { badInput, ExitCode, LabError } from "../errors.ts";

export type CommandKind = "fact" | "change" | "write" | "packages" | "service" | "compose" | "command";

/** Defaults in seconds: generous for work that is legitimately slow (apt, a user's command), tight for reads. */
export const DEFAULT_TIMEOUT_S: Readonly<Record<CommandKind, number>> = {
  /** The batched fact read of a host (stat, dpkg-query, systemctl is-active, ...). */
  fact: 120,
  /** Small changes: mkdir, chmod, useradd, rm. */
  change: 300,
  /** An atomic file upload (a 10 MB file takes a second on a LAN). */
  write: 600,
  /** apt-get update/install/remove. */
  packages: 1800,
  /** systemctl / init script start, stop, restart. */
  service: 300,
  /** Compose CLI calls other than `up` (config, ps, logs, uploads); `up` gets its own limit. */
  compose: 900,
  /** A `command` resource: anything the user runs. */
  command: 3600,
};

/** The limit in ms for a kind, or the per-resource `timeout` (seconds) when given. */
export function timeoutMs(kind: CommandKind, seconds?: number): number {
  return (seconds ?? DEFAULT_TIMEOUT_S[kind]) * 1000;
}

/** Validate a resource's `timeout` option (seconds) when it is built: bad input, before any host is contacted. */
export function checkTimeout(what: string, seconds: number | undefined): number | undefined {
  if (seconds === undefined) return undefined;
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0) {
    throw badInput(
      `${what}: timeout must be a positive number of seconds, got ${JSON.stringify(seconds)}`,
      {},
      "e.g. timeout: 600 (ten minutes)",
    );
  }
  return seconds;
}

/** A command ran past its limit: its channel was closed and the host is reported failed (not unreachable). */
export class CommandTimeoutError extends LabError {
  constructor(
    host: string,
    command: string,
    readonly limitMs: number,
  ) {
    super(
      `timed out after ${limitMs / 1000} s (the command was stopped)`,
      ExitCode.failed,
      { host, command },
      "the host is reachable but the command hung; check it on the host, or raise the resource's timeout (seconds) if it is legitimately slow",
    );
  }
}
