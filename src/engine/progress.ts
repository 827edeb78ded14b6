// Progress while a run goes: listr2 on a terminal; plain, greppable lines
// ("lab: PLAY host STATUS id: summary") when stderr is not a TTY (CI, cron).
import { Listr } from "listr2";
import type { Reporter } from "./runner.ts";
import type { StepResult } from "./results.ts";
import { redact } from "../secrets/secret.ts";

const line = (r: StepResult): string => {
  const what = r.changes.length ? r.changes.map((c) => c.summary).join("; ") : (r.reason ?? "");
  return `${r.host} ${r.status.padEnd(11)} ${r.id}${what ? `: ${what}` : ""}${r.hint ? ` (${r.hint})` : ""}`;
};

export class PlainReporter implements Reporter {
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly verbose: boolean,
  ) {}
  playStart(play: string, hosts: string[]): void {
    this.out.write(`lab: play "${play}" on ${hosts.length} host(s): ${hosts.join(", ")}\n`);
  }
  stepStart(): void {}
  step(r: StepResult): void {
    if (r.status === "ok" && !this.verbose) return;
    this.out.write(`lab: ${redact(line(r))}\n`);
  }
  async playEnd(): Promise<void> {}
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}
const deferred = (): Deferred => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

/** One listr2 task per host; each shows the step in progress and ends with the host's counts. */
export class ListrReporter implements Reporter {
  #titles = new Map<string, (t: string) => void>();
  #done = new Map<string, Deferred>();
  #failed = new Map<string, string>();
  #counts = new Map<string, { changed: number; ok: number }>();
  #listr: Promise<unknown> | undefined;

  playStart(play: string, hosts: string[]): void {
    for (const h of hosts) {
      this.#done.set(h, deferred());
      this.#counts.set(h, { changed: 0, ok: 0 });
    }
    const list = new Listr(
      [
        {
          title: `play: ${play}`,
          task: (_ctx, task) =>
            task.newListr(
              hosts.map((h) => ({
                title: h,
                task: async (_c: unknown, t: { title: string }) => {
                  this.#titles.set(h, (s) => (t.title = s));
                  await this.#done.get(h)!.promise;
                  const c = this.#counts.get(h)!;
                  t.title = `${h}: ${c.changed} changed, ${c.ok} ok`;
                  const err = this.#failed.get(h);
                  if (err) throw new Error(`${h}: ${err}`);
                },
              })),
              { concurrent: true, exitOnError: false },
            ),
        },
      ],
      { concurrent: false, exitOnError: false, rendererOptions: { collapseSubtasks: false, collapseErrors: false } },
    );
    this.#listr = list.run().catch(() => undefined);
  }
  stepStart(host: string, id: string): void {
    this.#titles.get(host)?.(`${host}: ${id}`);
  }
  step(r: StepResult): void {
    const c = this.#counts.get(r.host);
    if (c && r.status === "changed") c.changed++;
    if (c && r.status === "ok") c.ok++;
    if ((r.status === "failed" || r.status === "unreachable") && !this.#failed.has(r.host))
      this.#failed.set(r.host, `${r.status}: ${r.id}: ${r.reason ?? ""}`);
  }
  async playEnd(): Promise<void> {
    for (const d of this.#done.values()) d.resolve();
    await this.#listr;
    this.#done.clear();
    this.#failed.clear();
  }
}
