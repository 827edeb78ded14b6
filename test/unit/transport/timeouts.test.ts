// Every remote command is bounded: a default per kind, or the resource's own
// `timeout` (seconds). A command past its limit is stopped and its host fails
// (exit 3, not unreachable), naming the command and the limit.
import { describe, expect, it } from "vitest";
import { LabError } from "../../../src/errors.ts";
import { command } from "../../../src/resources/command.ts";
import { packages } from "../../../src/resources/packages.ts";
import { run } from "../../../src/resources/run.ts";
import { service } from "../../../src/resources/service.ts";
import { LocalTransport } from "../../../src/transport/local.ts";
import { CommandTimeoutError, DEFAULT_TIMEOUT_S, timeoutMs } from "../../../src/transport/timeouts.ts";
import type { ExecOptions, ExecResult, Transport } from "../../../src/transport/types.ts";
import { FakeTransport } from "../helpers/fake-transport.ts";
import { hostCtx } from "../helpers/host-ctx.ts";

/** A fake that records the limit of every exec. */
class Limits extends FakeTransport {
  readonly limits: (number | undefined)[] = [];
  override exec(c: string, o: ExecOptions = {}): Promise<ExecResult> {
    this.limits.push(o.timeoutMs);
    return super.exec(c, o);
  }
}

describe("limits", () => {
  it("gives every kind a default and lets a resource's timeout (seconds) win", () => {
    for (const [kind, s] of Object.entries(DEFAULT_TIMEOUT_S)) {
      expect(s).toBeGreaterThan(0);
      expect(timeoutMs(kind as keyof typeof DEFAULT_TIMEOUT_S)).toBe(s * 1000);
    }
    expect(timeoutMs("command", 2)).toBe(2000);
  });

  it("passes a limit with every command run() and the fact batch send", async () => {
    const t = new Limits().otherwise({ code: 0 }).fact(() => true, { stdout: "" });
    const ctx = hostCtx({ transport: t });
    await run(ctx, "true", "nothing");
    await run(ctx, "true", "apt", { kind: "packages" });
    await run(ctx, "true", "mine", { kind: "command", timeout: 7 });
    await ctx.facts.get({ key: "k", command: "true", parse: (s) => s });
    expect(t.limits).toEqual([
      DEFAULT_TIMEOUT_S.change * 1000,
      DEFAULT_TIMEOUT_S.packages * 1000,
      7000,
      DEFAULT_TIMEOUT_S.fact * 1000,
    ]);
  });

  it("applies command, packages and service timeouts to their commands", async () => {
    const t = new Limits().otherwise({ code: 0 });
    const ctx = hostCtx({ transport: t });
    await command({ command: "make", creates: "/x", timeout: 11 }).apply(ctx, [{ key: "run", summary: "" }], {});
    await packages({ names: ["cron"], timeout: 12 }).apply(ctx, [{ key: "cron", summary: "" }], {
      installed: {},
      candidate: {},
    });
    await service({ name: "cron", state: "started", timeout: 13 }).apply(ctx, [{ key: "start", summary: "" }], {
      manager: "systemd",
      active: false,
      enabled: false,
    });
    expect(t.limits).toEqual([11_000, 12_000, 13_000]);
  });

  it("merges package steps only when their timeouts agree", () => {
    const a = packages({ names: ["aa"], timeout: 60 });
    expect(a.merge!(packages({ names: ["bb"], timeout: 60 }))?.id).toBe("packages:present:aa,bb");
    expect(a.merge!(packages({ names: ["bb"] }))).toBeUndefined();
  });

  it.each([0, -1, Number.NaN, Infinity, "60" as unknown as number])("refuses timeout %s as bad input", (bad) => {
    for (const make of [
      () => command({ command: "x", creates: "/x", timeout: bad }),
      () => packages({ names: ["aa"], timeout: bad }),
      () => service({ name: "a", timeout: bad }),
    ]) {
      let e: unknown;
      try {
        make();
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(LabError);
      expect((e as LabError).code).toBe(2);
      expect((e as LabError).message).toContain("timeout must be a positive number of seconds");
    }
  });
});

describe("a command past its limit", () => {
  it("is stopped by the local transport", async () => {
    const t0 = Date.now();
    const e = await new LocalTransport("local").exec("sleep 10", { timeoutMs: 300 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CommandTimeoutError);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("fails the host (exit 3) naming the step, the command and the limit", async () => {
    const slow: Transport = {
      host: "h",
      exec: (c, o) => Promise.reject(new CommandTimeoutError("h", c, o?.timeoutMs ?? 0)),
      close: () => Promise.resolve(),
    };
    const e = await run(hostCtx({ transport: slow }), "sleep 99", "command sleep", {
      kind: "command",
      timeout: 2,
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LabError);
    expect((e as LabError).code).toBe(3);
    expect((e as LabError).message).toBe("command sleep timed out after 2 s (the command was stopped)");
    expect((e as LabError).where).toEqual({ host: "h", command: "sleep 99" });
  });
});
