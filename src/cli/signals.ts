// SIGINT, SIGTERM and SIGHUP, handled alike. The first asks the run to wind
// down (the AbortSignal: steps in flight finish, waits give up, nothing new
// starts). The second stops at once: the "before hard exit" hooks run
// synchronously (the audit record, a one-line recap, killing an editor and
// shredding its temp file), then the process exits 130 without waiting for
// anything else. A second signal before the command registered its hook (it is
// still loading its module) waits for that hook, at most HOOK_WAIT_MS: a record
// is written for every interrupted run.
import { ExitCode } from "../errors.ts";

export const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
export type LabSignal = (typeof SIGNALS)[number];

/** What the module needs from `process` (tests pass a fake). */
export interface SignalHost {
  on(event: LabSignal, fn: (sig: LabSignal) => void): unknown;
  off(event: LabSignal, fn: (sig: LabSignal) => void): unknown;
  exit(code: number): never;
}

export interface Signals {
  /** Aborted by the first signal. */
  readonly signal: AbortSignal;
  /** Synchronous work for the second signal; returns the unregister function. Hooks run newest first. */
  beforeHardExit(hook: () => void): () => void;
  /**
   * While held, SIGINT is ignored (an interactive editor owns Ctrl-C: the terminal sends it to the
   * editor too). SIGTERM and SIGHUP still count. Returns the release function.
   */
  yieldSigint(): () => void;
  /** Stop listening (the command is over). */
  dispose(): void;
}

export interface SignalOptions {
  host?: SignalHost;
  stderr?: { write(text: string): unknown };
  /** How long a hard exit waits for the command's first hook (default HOOK_WAIT_MS). */
  hookWaitMs?: number;
}

/** Long enough to load a command's module on a loaded machine, short enough to feel "at once". */
export const HOOK_WAIT_MS = 3000;

export function installSignals(opts: SignalOptions = {}): Signals {
  const host: SignalHost = opts.host ?? process;
  const stderr = opts.stderr ?? process.stderr;
  const abort = new AbortController();
  const hooks: (() => void)[] = [];
  let sigintYielded = 0;
  let pending: LabSignal | undefined;

  const hardExit = (sig: LabSignal): void => {
    if (hooks.length === 0 && pending === undefined) {
      // The command has not hooked its record yet: exit when it does, or when the wait is over.
      pending = sig;
      stderr.write(`\nlab: ${sig} again: aborting as soon as the run's record can be written\n`);
      const timer = setTimeout(() => runHooksAndExit(), opts.hookWaitMs ?? HOOK_WAIT_MS);
      (timer as { unref?: () => void }).unref?.();
      return;
    }
    if (pending === undefined) stderr.write(`\nlab: ${sig} again: aborting now\n`);
    runHooksAndExit();
  };

  const runHooksAndExit = (): never => {
    for (const hook of [...hooks].reverse()) {
      try {
        hook();
      } catch (e) {
        // One failing hook must not keep the others (the audit record, the shredding) from running.
        stderr.write(`lab: while aborting: ${e instanceof Error ? e.message : String(e)}\n`);
      }
    }
    return host.exit(ExitCode.interrupted);
  };

  const onSignal = (sig: LabSignal): void => {
    if (sig === "SIGINT" && sigintYielded > 0) return;
    if (abort.signal.aborted) return hardExit(sig);
    stderr.write(`\nlab: ${sig}: finishing the steps in flight, then stopping (again to abort at once)\n`);
    abort.abort(sig);
  };
  for (const s of SIGNALS) host.on(s, onSignal);

  return {
    signal: abort.signal,
    beforeHardExit(hook) {
      hooks.push(hook);
      if (pending !== undefined) runHooksAndExit();
      return () => {
        const i = hooks.indexOf(hook);
        if (i >= 0) hooks.splice(i, 1);
      };
    },
    yieldSigint() {
      sigintYielded++;
      let released = false;
      return () => {
        if (!released) sigintYielded--;
        released = true;
      };
    },
    dispose() {
      for (const s of SIGNALS) host.off(s, onSignal);
    },
  };
}

/** For commands run without the CLI (tests, library use): never aborted, hooks never run. */
export function quietSignals(): Signals {
  return {
    signal: new AbortController().signal,
    beforeHardExit: () => () => undefined,
    yieldSigint: () => () => undefined,
    dispose: () => undefined,
  };
}
