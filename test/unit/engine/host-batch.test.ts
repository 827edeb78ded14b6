// A host's changes in one remote script (ADR 0023), run by a real sh in a temp
// folder: a first run takes 3 round trips (facts, the batch, the read-back), a
// failing middle step is reported as that step and nothing after it runs, steps
// that read what an earlier one writes get a batch of their own, secrets stay
// off every command line and log, and the second run changes nothing.
import { existsSync } from "node:fs";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHostPlay } from "../../../src/engine/host-run.ts";
import type { StepResult } from "../../../src/engine/results.ts";
import type { HostPlan } from "../../../src/engine/steps.ts";
import type { Handler, Resource } from "../../../src/engine/types.ts";
import { directory } from "../../../src/resources/directory.ts";
import { file } from "../../../src/resources/file.ts";
import { line } from "../../../src/resources/lines.ts";
import { run } from "../../../src/resources/run.ts";
import { Secret } from "../../../src/secrets/secret.ts";
import { sh } from "../../../src/sh.ts";
import { LocalTransport } from "../../../src/transport/local.ts";
import type { ExecOptions, Transport } from "../../../src/transport/types.ts";
import { hostCtx } from "../helpers/host-ctx.ts";
import { tempDir } from "../helpers/temp.ts";

/** The local sh, every exec recorded (one exec = one round trip). */
class Recorded implements Transport {
  readonly host = "local";
  readonly calls: { command: string; stdin: string }[] = [];
  readonly #local = new LocalTransport("local");
  exec(command: string, options: ExecOptions = {}) {
    this.calls.push({ command, stdin: String(options.stdin ?? "") });
    return this.#local.exec(command, options);
  }
  close() {
    return Promise.resolve();
  }
}

const touchHandler = (id: string, path: string): Handler => ({
  id,
  summary: `touch ${path}`,
  batch: true,
  run: async (ctx) => {
    await run(ctx, sh`echo ran >> ${path}`, `handler ${id}`);
  },
});

const plan = (resources: Resource[], handlers: Handler[] = []): HostPlan => ({
  host: "local",
  steps: resources.map((resource) => ({ resource, role: "test", tags: [] })),
  handlers: new Map(handlers.map((h) => [h.id, h])),
});

async function apply(p: HostPlan) {
  const t = new Recorded();
  const ctx = hostCtx({ transport: t });
  const results: StepResult[] = [];
  const ok = await runHostPlay(ctx, p, { play: "p", check: false, onStep: (r) => results.push(r), onStart: () => {} });
  return { ok, results, t, logs: ctx.logs, brief: results.map((r) => `${r.status} ${r.id}`) };
}

describe("a host's changes in one batch", () => {
  it("a first run: facts, one batch, one read-back; the handler ends the batch; the second run changes nothing", async () => {
    const dir = await tempDir();
    const d = join(dir, "etc");
    const steps = () =>
      plan(
        [
          directory({ path: d, mode: "0755" }),
          file({ path: join(d, "a"), content: "a\n", mode: "0644" }),
          file({ path: join(d, "b"), content: "b\n" }, { notify: ["h"] }),
          line({ path: join(d, "c"), line: "mode=managed", regexp: "^mode=", create: true }),
        ],
        [touchHandler("h", join(dir, "handler-ran"))],
      );
    const first = await apply(steps());
    expect(first.ok, JSON.stringify(first.results, null, 1)).toBe(true);
    expect(first.brief).toEqual([
      `changed directory:${d}`,
      `changed file:${d}/a`,
      `changed file:${d}/b`,
      `changed line:${d}/c:^mode=`,
      "changed handler:h",
    ]);
    expect(first.t.calls.map((c) => c.command)).toEqual(["sh -s", "sh -s", "sh -s"]);
    expect(await readFile(join(d, "c"), "utf8")).toBe("mode=managed\n");
    expect(await readFile(join(dir, "handler-ran"), "utf8")).toBe("ran\n");

    const second = await apply(steps());
    expect(second.brief).toEqual([`ok directory:${d}`, `ok file:${d}/a`, `ok file:${d}/b`, `ok line:${d}/c:^mode=`]);
    expect(second.t.calls).toHaveLength(1);
    expect(await readFile(join(dir, "handler-ran"), "utf8")).toBe("ran\n");
  });

  it("a failing middle step is reported as that step; the steps and handlers after it do not run", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "plain"), "a file, not a directory\n");
    const { ok, results, brief, t } = await apply(
      plan(
        [
          file({ path: join(dir, "one"), content: "1\n" }, { notify: ["h"] }),
          file({ path: join(dir, "plain", "two"), content: "2\n" }),
          file({ path: join(dir, "three"), content: "3\n" }),
        ],
        [touchHandler("h", join(dir, "handler-ran"))],
      ),
    );
    expect(ok).toBe(false);
    expect(brief).toEqual([
      `changed file:${dir}/one`,
      `failed file:${dir}/plain/two`,
      `skipped file:${dir}/three`,
      "skipped handler:h",
    ]);
    expect(results[1]!.reason).toMatch(new RegExp(`^write ${dir}/plain/two failed \\(exit 1\\):`));
    expect(results[1]!.hint).toMatch(/^command: /);
    expect(results[2]!.reason).toBe(`not run: an earlier step failed (file:${dir}/plain/two)`);
    expect(results[3]!.reason).toBe("not run: notified, but the host stopped early");
    expect(existsSync(join(dir, "one"))).toBe(true);
    expect(existsSync(join(dir, "three"))).toBe(false);
    expect(existsSync(join(dir, "handler-ran"))).toBe(false);
    // Facts, the batch, the read-back of the one step that ran.
    expect(t.calls).toHaveLength(3);
  });

  it("a step that reads what a waiting change writes waits for it: a batch of its own", async () => {
    const dir = await tempDir();
    const p = join(dir, "conf");
    const { ok, brief, t } = await apply(
      plan([
        file({ path: p, content: "mode=old\nkeep\n" }),
        line({ path: p, line: "mode=new", regexp: "^mode=" }),
        file({ path: join(dir, "other"), content: "x\n" }),
      ]),
    );
    expect(ok).toBe(true);
    expect(brief).toEqual([`changed file:${p}`, `changed line:${p}:^mode=`, `changed file:${dir}/other`]);
    expect(await readFile(p, "utf8")).toBe("mode=new\nkeep\n");
    // Facts, batch [file], read-back (+ the line's read), batch [line, other], read-back.
    expect(t.calls).toHaveLength(5);
  });

  it("a secret file's content is on no command line and in no log; its file is 0600", async () => {
    const dir = await tempDir();
    const value = "hunter2-very-secret";
    const { ok, t, logs } = await apply(
      plan([
        file({ path: join(dir, "plain"), content: "x\n" }),
        file({ path: join(dir, "secret"), content: new Secret("db", value) }),
      ]),
    );
    expect(ok).toBe(true);
    expect(await readFile(join(dir, "secret"), "utf8")).toBe(value);
    expect((await stat(join(dir, "secret"))).mode & 0o777).toBe(0o600);
    expect(t.calls.map((c) => c.command)).toEqual(["sh -s", "sh -s", "sh -s"]);
    expect(t.calls.some((c) => c.stdin.includes(value))).toBe(false);
    expect(logs.some((l) => l.includes(value))).toBe(false);
  });
});
