// The local transport: commands run on this machine through zx (no SSH).
import type { ExecOptions, ExecResult, Transport } from "./types.ts";

export class LocalTransport implements Transport {
  constructor(readonly host: string) {}
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const { $ } = await import("zx"); // on first use: most runs are SSH only
    const p = $({
      nothrow: true,
      quiet: true,
      ...(options.stdin !== undefined ? { input: options.stdin } : {}),
      ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    })`sh -c ${command}`;
    const r = await p;
    return { stdout: r.stdout, stderr: r.stderr, code: r.exitCode ?? 1 };
  }
  async close(): Promise<void> {}
}
