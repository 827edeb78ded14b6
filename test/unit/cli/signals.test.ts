// The signals module with a fake process: SIGHUP counts like SIGINT/SIGTERM, the
// second signal runs the hard-exit hooks (newest first, each even if another
// throws) and exits 130, and a yielded SIGINT is left to the editor.
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { installSignals, type LabSignal, type SignalHost } from "../../../src/cli/signals.ts";

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function fake() {
  const ee = new EventEmitter();
  const host: SignalHost = {
    on: (e, fn) => ee.on(e, fn),
    off: (e, fn) => ee.off(e, fn),
    exit: (code) => {
      throw new Exit(code);
    },
  };
  let err = "";
  const signals = installSignals({ host, stderr: { write: (s: string) => (err += s) } });
  const send = (s: LabSignal) => ee.emit(s, s);
  return { ee, signals, send, err: () => err };
}

describe("signals", () => {
  for (const first of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    it(`${first} first: aborts and says so; no hook runs, no exit`, () => {
      const f = fake();
      let ran = 0;
      f.signals.beforeHardExit(() => ran++);
      f.send(first);
      expect(f.signals.signal.aborted).toBe(true);
      expect(f.err()).toContain(`${first}: finishing the steps in flight`);
      expect(ran).toBe(0);
    });
  }

  it("a second signal (any of the three) runs the hooks newest first, even after one throws, then exits 130", () => {
    const f = fake();
    const order: string[] = [];
    f.signals.beforeHardExit(() => order.push("audit"));
    f.signals.beforeHardExit(() => {
      order.push("broken");
      throw new Error("disk full");
    });
    const off = f.signals.beforeHardExit(() => order.push("unregistered"));
    off();
    f.send("SIGTERM");
    expect(() => f.send("SIGHUP")).toThrow(new Exit(130));
    expect(order).toEqual(["broken", "audit"]);
    expect(f.err()).toContain("SIGHUP again: aborting now");
    expect(f.err()).toContain("disk full");
  });

  it("a yielded SIGINT is ignored (the editor's), SIGTERM still counts; after release SIGINT counts again", () => {
    const f = fake();
    const release = f.signals.yieldSigint();
    f.send("SIGINT");
    f.send("SIGINT");
    expect(f.signals.signal.aborted).toBe(false);
    release();
    release(); // idempotent
    f.send("SIGINT");
    expect(f.signals.signal.aborted).toBe(true);
  });

  it("a second signal before the command hooked its record waits for the hook, then runs it and exits 130", () => {
    const f = fake();
    f.send("SIGTERM");
    expect(() => f.send("SIGTERM")).not.toThrow();
    expect(f.err()).toContain("aborting as soon as the run's record can be written");
    let ran = 0;
    expect(() => f.signals.beforeHardExit(() => ran++)).toThrow(new Exit(130));
    expect(ran).toBe(1);
  });

  it("a third signal while waiting for the hook exits at once", () => {
    const f = fake();
    f.send("SIGINT");
    f.send("SIGINT");
    expect(() => f.send("SIGINT")).toThrow(new Exit(130));
  });

  it("the wait for a hook is bounded: with none registered, it exits 130 when the wait is over", async () => {
    const exits: number[] = [];
    const ee = new EventEmitter();
    installSignals({
      host: { on: (e, fn) => ee.on(e, fn), off: (e, fn) => ee.off(e, fn), exit: (c) => exits.push(c) as never },
      stderr: { write: () => true },
      hookWaitMs: 20,
    });
    ee.emit("SIGHUP", "SIGHUP");
    ee.emit("SIGHUP", "SIGHUP");
    expect(exits).toEqual([]);
    await new Promise((r) => setTimeout(r, 60));
    expect(exits).toEqual([130]);
  });

  it("dispose stops listening", () => {
    const f = fake();
    f.signals.dispose();
    expect(f.ee.listenerCount("SIGHUP") + f.ee.listenerCount("SIGINT") + f.ee.listenerCount("SIGTERM")).toBe(0);
  });
});
