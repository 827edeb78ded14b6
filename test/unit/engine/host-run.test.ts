// One play on one host (runHostPlay) with a fake transport and small test
// resources: plan vs apply, convergence, stopping, handlers, redaction.
import { describe, expect, it } from "vitest";
import { runHostPlay } from "../../../src/engine/host-run.ts";
import type { StepResult } from "../../../src/engine/results.ts";
import type { HostPlan } from "../../../src/engine/steps.ts";
import type { Change, Handler, Resource } from "../../../src/engine/types.ts";
import { LabError, UnreachableError } from "../../../src/errors.ts";
import { command } from "../../../src/resources/command.ts";
import { file } from "../../../src/resources/file.ts";
import { Secret } from "../../../src/secrets/secret.ts";
import { FakeTransport } from "../helpers/fake-transport.ts";
import { hostCtx, type TestCtx } from "../helpers/host-ctx.ts";

/** A switch on a fake device: want "on"; apply turns it on (unless stubborn). */
function switchResource(
  name: string,
  device: Map<string, string>,
  opts: { stubborn?: boolean; readError?: Error; notify?: string[]; summary?: string } = {},
): Resource<string, string> & { applied: number } {
  const r = {
    id: `switch:${name}`,
    want: "on",
    applied: 0,
    ...(opts.notify ? { notify: opts.notify } : {}),
    read: () => (opts.readError ? Promise.reject(opts.readError) : Promise.resolve(device.get(name) ?? "off")),
    diff: (want: string, have: string): Change[] =>
      want === have ? [] : [{ key: "state", summary: opts.summary ?? `turn ${name} ${want}` }],
    apply: () => {
      r.applied++;
      if (!opts.stubborn) device.set(name, "on");
      return Promise.resolve();
    },
    ok: (have: string) => `${name} is ${have}`,
  };
  return r;
}

const handler = (id: string, calls: string[], fail?: Error): Handler => ({
  id,
  summary: `do ${id}`,
  run: () => {
    calls.push(id);
    return fail ? Promise.reject(fail) : Promise.resolve();
  },
});

const plan = (resources: Resource[], handlers: Handler[] = []): HostPlan => ({
  host: "web1",
  steps: resources.map((resource) => ({ resource, role: "test", tags: [] })),
  handlers: new Map(handlers.map((h) => [h.id, h])),
});

async function play(
  ctx: TestCtx,
  p: HostPlan,
  check = false,
): Promise<{ ok: boolean; results: StepResult[]; started: string[] }> {
  const results: StepResult[] = [];
  const started: string[] = [];
  const ok = await runHostPlay(ctx, p, {
    play: "p",
    check,
    onStep: (r) => results.push(r),
    onStart: (id) => started.push(id),
  });
  return { ok, results, started };
}
const brief = (rs: StepResult[]) => rs.map((r) => `${r.status} ${r.id}${r.reason ? ` (${r.reason})` : ""}`);

describe("runHostPlay", () => {
  it("plan: reads every step's facts in one round trip and applies nothing", async () => {
    const t = new FakeTransport().fact(/^p=/, { stdout: "absent\n" });
    const ctx = hostCtx({ transport: t });
    const { ok, results } = await play(
      ctx,
      plan([
        file({ path: "/etc/a", content: "a" }),
        file({ path: "/etc/b", content: "b" }),
        file({ path: "/etc/c", content: "c" }),
      ]),
      true,
    );
    expect(ok).toBe(true);
    expect(results.map((r) => r.status)).toEqual(["changed", "changed", "changed"]);
    expect(t.calls.map((c) => c.command)).toEqual(["sh -s"]);
    expect(t.factCommands).toHaveLength(3);
  });

  it("apply: applies, reads back, and records no-ops with their reason", async () => {
    const device = new Map([["b", "on"]]);
    const a = switchResource("a", device);
    const b = switchResource("b", device);
    const { ok, results } = await play(hostCtx(), plan([a, b]));
    expect(ok).toBe(true);
    expect(brief(results)).toEqual(["changed switch:a", "ok switch:b (b is on)"]);
    expect(results[0]!.changes).toEqual([{ key: "state", summary: "turn a on" }]);
    expect([a.applied, b.applied]).toEqual([1, 0]);
  });

  it("a step that does not converge fails the host; the rest is skipped with the reason", async () => {
    const device = new Map<string, string>();
    const calls: string[] = [];
    const { ok, results } = await play(
      hostCtx(),
      plan(
        [
          switchResource("a", device, { notify: ["h"] }),
          switchResource("b", device, { stubborn: true }),
          switchResource("c", device),
        ],
        [handler("h", calls)],
      ),
    );
    expect(ok).toBe(false);
    expect(brief(results)).toEqual([
      "changed switch:a",
      "failed switch:b (did not converge: still turn b on)",
      "skipped switch:c (not run: an earlier step failed (switch:b))",
      "skipped handler:h (not run: notified, but the host stopped early)",
    ]);
    expect(calls).toEqual([]);
    expect(device.get("c")).toBeUndefined();
  });

  it("plan: a step that cannot be read after an earlier planned change is skipped, not failed", async () => {
    const device = new Map<string, string>();
    const { ok, results } = await play(
      hostCtx(),
      plan([
        switchResource("a", device),
        switchResource("b", device, { readError: new Error("no such device until a is on") }),
      ]),
      true,
    );
    expect(ok).toBe(true);
    expect(brief(results)).toEqual([
      "changed switch:a",
      "skipped switch:b (cannot be planned before the earlier changes are applied: no such device until a is on)",
    ]);
  });

  it("plan: a read error with no earlier change is a failure", async () => {
    const { ok, results } = await play(
      hostCtx(),
      plan([switchResource("a", new Map(), { readError: new LabError("cannot read a", 3, {}, "check a") })]),
      true,
    );
    expect(ok).toBe(false);
    expect(results[0]).toMatchObject({ status: "failed", reason: "cannot read a", hint: "check a" });
  });

  it("an unreachable host: the step is unreachable, the rest skipped", async () => {
    const device = new Map<string, string>();
    const { ok, results } = await play(
      hostCtx(),
      plan([
        switchResource("a", device, { readError: new UnreachableError("web1", "connection refused") }),
        switchResource("b", device),
      ]),
    );
    expect(ok).toBe(false);
    expect(brief(results)).toEqual([
      "unreachable switch:a (connection refused)",
      "skipped switch:b (not run: host unreachable)",
    ]);
  });

  it("an abort stops before the next step", async () => {
    const device = new Map<string, string>();
    const ctx = hostCtx();
    const a = switchResource("a", device);
    const apply = a.apply.bind(a);
    a.apply = async (...args) => {
      await apply(...args);
      ctx.abort.abort();
    };
    const { ok, results } = await play(ctx, plan([a, switchResource("b", device)]));
    expect(ok).toBe(false);
    expect(brief(results)).toEqual(["changed switch:a", "skipped switch:b (not run: interrupted)"]);
    expect(device.get("b")).toBeUndefined();
  });

  it("handlers run once, in declaration order, only when notified; a failing handler fails the host", async () => {
    const device = new Map<string, string>();
    const calls: string[] = [];
    const { ok, results } = await play(
      hostCtx(),
      plan(
        [
          switchResource("a", device, { notify: ["second", "first"] }),
          switchResource("b", device, { notify: ["first"] }),
        ],
        [handler("first", calls), handler("unused", calls), handler("second", calls, new Error("reload failed"))],
      ),
    );
    expect(calls).toEqual(["first", "second"]);
    expect(ok).toBe(false);
    expect(brief(results).slice(2)).toEqual(["changed handler:first", "failed handler:second (reload failed)"]);
  });

  it("plan reports notified handlers without running them", async () => {
    const calls: string[] = [];
    const { results } = await play(
      hostCtx(),
      plan([switchResource("a", new Map(), { notify: ["h"] })], [handler("h", calls)]),
      true,
    );
    expect(brief(results)).toEqual(["changed switch:a", "changed handler:h"]);
    expect(calls).toEqual([]);
  });

  it("redacts secret values from ids, summaries, reasons and hints — also in the steps skipped after a failure", async () => {
    const secret = new Secret("db-password", "pw-5e1f0a77c3-hostrun");
    const t = new FakeTransport()
      .fact(/./, { stdout: "" })
      .otherwise({ code: 1, stderr: `psql: password ${secret.reveal()} rejected` });
    const failing = command({ command: `psql -c "ALTER ROLE app PASSWORD '${secret.reveal()}'"`, unless: "false" });
    const { results } = await play(
      hostCtx({ transport: t }),
      plan([
        switchResource("a", new Map(), { summary: `set to ${secret.reveal()}` }),
        failing,
        switchResource("after", new Map()),
      ]),
    );
    expect(results.map((r) => r.status)).toEqual(["changed", "failed", "skipped"]);
    expect(JSON.stringify(results)).not.toContain(secret.reveal());
    expect(results[2]!.reason).toContain("«redacted»");
  });
});

describe("later steps see what earlier steps changed", () => {
  // "/etc/init.d/demo" on a fake host: a writer step creates it, a reader step's fact depends on it.
  const setup = () => {
    const disk = new Map<string, string>();
    const t = new FakeTransport()
      .fact(/^cat \/etc\/init\.d\/demo$/, () => ({
        stdout: disk.get("/etc/init.d/demo") ?? "",
        code: disk.has("/etc/init.d/demo") ? 0 : 1,
      }))
      .fact(/^cat \/etc\/other$/, { stdout: "x" });
    const writer: Resource<string, boolean> = {
      id: "writer",
      want: "script",
      writes: () => ["/etc/init.d/demo"],
      facts: () => [
        { key: "w", command: "cat /etc/init.d/demo", parse: (_o, code) => code === 0, dependsOn: ["/etc/init.d/demo"] },
      ],
      read: (ctx) => ctx.facts.get({ key: "w", command: "cat /etc/init.d/demo", parse: (_o, code) => code === 0 }),
      diff: (_w, have) => (have ? [] : [{ key: "content", summary: "create /etc/init.d/demo" }]),
      apply: () => Promise.resolve(void disk.set("/etc/init.d/demo", "#!/bin/sh\n")),
    };
    const readerFact = {
      key: "r",
      command: "cat /etc/init.d/demo",
      parse: (_o: string, code: number) => code === 0,
      dependsOn: ["/etc/init.d/demo"],
    };
    const reader: Resource<string, boolean> = {
      id: "reader",
      want: "running",
      facts: () => [readerFact, { key: "o", command: "cat /etc/other", parse: () => true }],
      read: (ctx) => ctx.facts.get(readerFact),
      diff: (_w, have) => {
        if (!have) throw new LabError("no /etc/init.d/demo", 3);
        return [];
      },
      apply: () => Promise.resolve(),
      ok: () => "script found",
    };
    return { t, writer, reader };
  };

  it("apply: after a change, the remaining steps' facts are read again in one round trip", async () => {
    const { t, writer, reader } = setup();
    const { ok, results } = await play(hostCtx({ transport: t }), plan([writer, reader]));
    expect(brief(results)).toEqual(["changed writer", "ok reader (script found)"]);
    expect(ok).toBe(true);
    // Up front (both steps), then once after the change (the writer's read-back and the reader together).
    expect(t.calls.map((c) => c.command)).toEqual(["sh -s", "sh -s"]);
  });

  it("plan: a step depending on a path an earlier planned change writes is known after apply", async () => {
    const { t, writer, reader } = setup();
    const { ok, results } = await play(hostCtx({ transport: t }), plan([writer, reader]), true);
    expect(ok).toBe(true);
    expect(results.map((r) => [r.status, r.id, r.changes.map((c) => c.summary)])).toEqual([
      ["changed", "writer", ["create /etc/init.d/demo"]],
      ["changed", "reader", ["known after apply: depends on /etc/init.d/demo, which writer changes first"]],
    ]);
  });
});
