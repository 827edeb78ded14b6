// Facts gathered lazily and batched: every fact a host needs is run in ONE
// remote `sh` (one round trip), its outputs split by a random boundary.
import { randomBytes } from "node:crypto";
import type { Fact, FactCache } from "../engine/types.ts";
import type { Transport } from "../transport/types.ts";
import { LabError, ExitCode, UnreachableError } from "../errors.ts";
import { CommandTimeoutError, timeoutMs } from "../transport/timeouts.ts";

export class BatchedFacts implements FactCache {
  readonly #values = new Map<string, unknown>();
  /** Round trips made (for -v and the benchmark). */
  roundTrips = 0;
  constructor(private readonly transport: Transport) {}

  async get<T>(fact: Fact<T>): Promise<T> {
    if (!this.#values.has(fact.key)) await this.prefetch([fact]);
    return this.#values.get(fact.key) as T;
  }

  async prefetch(facts: readonly Fact<unknown>[]): Promise<void> {
    const todo = [...new Map(facts.filter((f) => !this.#values.has(f.key)).map((f) => [f.key, f])).values()];
    if (todo.length === 0) return;
    const boundary = `@@lab-${randomBytes(8).toString("hex")}`;
    // Each fact runs in a subshell with no stdin (stdin carries this script) and no stderr.
    const script = todo
      .map(
        (f, i) =>
          `printf '%s\\n' '${boundary}:${i}'\n( ${f.command}\n) </dev/null 2>/dev/null\nprintf '\\n%s:%s\\n' '${boundary}:${i}' "$?"\n`,
      )
      .join("");
    this.roundTrips++;
    const r = await this.transport
      .exec("sh -s", { stdin: script, timeoutMs: timeoutMs("fact") })
      .catch((e: unknown) => {
        // Name the facts being read, not the framing script.
        const what = `reading facts (${todo
          .map((f) => f.key)
          .join(", ")
          .slice(0, 300)})`;
        if (e instanceof CommandTimeoutError)
          throw new LabError(
            `${what} ${e.message}`,
            ExitCode.failed,
            { host: this.transport.host, command: "sh -s" },
            e.hint,
            { cause: e },
          );
        if (e instanceof UnreachableError && e.where.command)
          throw new UnreachableError(this.transport.host, `${what}: ${e.message}`, e.hint, {
            cause: e,
            command: "sh -s",
          });
        throw e;
      });
    todo.forEach((f, i) => {
      const start = r.stdout.indexOf(`${boundary}:${i}\n`);
      const endRe = new RegExp(`\\n${boundary}:${i}:(\\d+)\\n`);
      const tail = start < 0 ? null : endRe.exec(r.stdout.slice(start));
      if (start < 0 || !tail) {
        throw new LabError(
          `fact ${f.key}: no output from the host (exit ${r.code}): ${r.stderr.trim().slice(0, 300)}`,
          ExitCode.failed,
          { host: this.transport.host, command: f.command },
          "is /bin/sh a POSIX shell there? run with -v for details",
        );
      }
      const out = r.stdout.slice(start + boundary.length + String(i).length + 2, start + tail.index);
      this.#values.set(f.key, f.parse(out, Number(tail[1])));
    });
  }

  invalidate(keys?: readonly string[]): void {
    if (!keys) this.#values.clear();
    else for (const k of keys) this.#values.delete(k);
  }
}
