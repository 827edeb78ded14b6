// The local transport: commands run on this machine through zx (no SSH).
import { CommandTimeoutError, DEFAULT_TIMEOUT_S } from "./timeouts.ts";
import type { ExecOptions, ExecResult, Transport } from "./types.ts";

export class LocalTransport implements Transport {
  constructor(readonly host: string) {}
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const { $ } = await import("zx"); // on first use: most runs are SSH only
    const limit = options.timeoutMs ?? DEFAULT_TIMEOUT_S.command * 1000;
    const stop = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stop.abort();
    }, limit);
    try {
      const r = await $({
        nothrow: true,
        quiet: true,
        signal: stop.signal,
        ...(options.stdin !== undefined ? { input: options.stdin } : {}),
      })`sh -c ${command}`;
      if (timedOut) throw new CommandTimeoutError(this.host, command, limit);
      return { stdout: r.stdout, stderr: r.stderr, code: r.exitCode ?? 1 };
    } finally {
      clearTimeout(timer);
    }
  }
  async close(): Promise<void> {}
}
