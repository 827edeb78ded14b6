import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acquireLock, lockFile, readLock, staleWarning, type LockHolder } from "../../../src/engine/lock.ts";
import { ExitCode, type LabError } from "../../../src/errors.ts";
import { Secret } from "../../../src/secrets/secret.ts";
import { child, deadPid, exited, lockError, root } from "./helpers.ts";

describe("lab lock", () => {
  it("writes who holds it, 0600; release is idempotent and removes it", async () => {
    const dir = await root();
    const lock = await acquireLock({ root: dir, command: "lab apply site.ts" });
    const file = lockFile(dir);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, "utf8"))).toMatchObject({
      pid: process.pid,
      host: hostname(),
      command: "lab apply site.ts",
    });
    expect(Object.keys((await readLock(file))!).sort()).toEqual(["command", "host", "pid", "startedAt", "user"]);
    await lock.release();
    await lock.release();
    expect(await readLock(file)).toBeUndefined();
    await (await acquireLock({ root: dir, command: "again" })).release();
  });

  it("redacts secrets given in the command", async () => {
    const dir = await root();
    const s = new Secret("pw", "lock-secret-value-99");
    const lock = await acquireLock({ root: dir, command: `lab apply -e pw=${s.reveal()}` });
    expect(await readFile(lock.file, "utf8")).not.toContain("lock-secret-value-99");
    await lock.release();
  });

  it("a second run fails with exit 5 naming the holder (another process)", async () => {
    const dir = await root();
    const p = await child(dir, "hold");
    const e = await lockError(acquireLock({ root: dir, command: "lab apply" }));
    expect(e.code).toBe(ExitCode.locked);
    const text = e.format();
    expect(text).toContain(`pid ${p.pid}`);
    expect(text).toContain(hostname());
    expect(text).toContain((await readLock(lockFile(dir)))!.startedAt);
    expect(text).toContain("lab apply site.ts (child)");
    expect(text).toMatch(/--lock-timeout/);
  });

  it("waits with a timeout and gets the lock when the holder is killed (its signal handler releases)", async () => {
    const dir = await root();
    const p = await child(dir, "hold");
    const waitedFor: LockHolder[] = [];
    const stale: LockHolder[] = [];
    const onStale = (h: LockHolder) => stale.push(h);
    const pending = acquireLock({
      root: dir,
      command: "lab apply",
      timeoutSec: 20,
      pollMs: 20,
      onWait: (h) => waitedFor.push(h),
      onStale,
    });
    await new Promise((r) => setTimeout(r, 200));
    p.kill("SIGTERM");
    const lock = await pending;
    expect(waitedFor.map((h) => h.pid)).toEqual([p.pid]);
    expect(stale).toEqual([]); // released by the child, not taken over as stale
    await exited(p); // the lock is free before the child has finished dying
    expect(p.signalCode).toBe("SIGTERM"); // and the child still died of the signal
    expect(lock.holder.pid).toBe(process.pid);
    await lock.release();
  });

  it("when the run handles the signal itself, the lock is kept until it exits", async () => {
    const dir = await root();
    const p = await child(dir, "graceful");
    const stopping = new Promise<void>((r) =>
      p.stdout!.on("data", (d: Buffer) => d.toString().includes("stopping") && r()),
    );
    p.kill("SIGTERM");
    await stopping;
    expect((await readLock(lockFile(dir)))?.pid).toBe(p.pid);
    await exited(p);
    expect(p.exitCode).toBe(130);
    expect(await readLock(lockFile(dir))).toBeUndefined();
  });

  it("a wait that times out fails with exit 5", async () => {
    const dir = await root();
    await child(dir, "hold");
    const t0 = Date.now();
    const e = await lockError(acquireLock({ root: dir, command: "x", timeoutSec: 0.3, pollMs: 50 }));
    expect(e.code).toBe(ExitCode.locked);
    expect(e.message).toMatch(/still locked after 0.3s/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it("a process that exits without release() leaves no lock", async () => {
    const dir = await root();
    const p = await child(dir, "exit");
    await exited(p);
    expect(await readLock(lockFile(dir))).toBeUndefined();
  });

  it("takes over a stale lock (SIGKILLed holder) and reports it", async () => {
    const dir = await root();
    const p = await child(dir, "hold");
    p.kill("SIGKILL");
    await exited(p);
    expect((await readLock(lockFile(dir)))?.pid).toBe(p.pid);
    const stale: LockHolder[] = [];
    const lock = await acquireLock({ root: dir, command: "lab apply", onStale: (h) => stale.push(h) });
    expect(stale.map((h) => h.pid)).toEqual([p.pid]);
    expect((await readLock(lockFile(dir)))?.pid).toBe(process.pid);
    await lock.release();
  });

  it("does not take over a lock from another host (its pid cannot be checked)", async () => {
    const dir = await root();
    await mkdir(join(dir, ".lab"));
    const other: LockHolder = {
      pid: await deadPid(),
      host: `not-${hostname()}`,
      user: "bob",
      command: "lab apply",
      startedAt: new Date().toISOString(),
    };
    await writeFile(lockFile(dir), JSON.stringify(other));
    const e = await lockError(acquireLock({ root: dir, command: "x" }));
    expect(e.code).toBe(ExitCode.locked);
    expect(e.format()).toContain(other.host);
  });

  it("two runs racing for one stale lock: exactly one wins", async () => {
    const dir = await root();
    await mkdir(join(dir, ".lab"));
    const dead: LockHolder = {
      pid: await deadPid(),
      host: hostname(),
      user: "x",
      command: "old",
      startedAt: new Date().toISOString(),
    };
    await writeFile(lockFile(dir), JSON.stringify(dead));
    const results = await Promise.allSettled([
      acquireLock({ root: dir, command: "a" }),
      acquireLock({ root: dir, command: "b" }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((r) => r.status === "rejected");
    expect((rejected?.reason as LabError).code).toBe(ExitCode.locked);
    for (const r of results) if (r.status === "fulfilled") await r.value.release();
  });

  it("the stale-lock race, interleaved on purpose: a run that saw the stale lock re-checks before deleting, and never removes the lock another run just took", async () => {
    const dir = await root();
    await mkdir(join(dir, ".lab"));
    const dead: LockHolder = {
      pid: await deadPid(),
      host: hostname(),
      user: "x",
      command: "old",
      startedAt: new Date().toISOString(),
    };
    await writeFile(lockFile(dir), JSON.stringify(dead));
    let winner: Awaited<ReturnType<typeof acquireLock>> | undefined;
    // A has seen the stale lock; before it takes over, B takes it over completely and holds the lock.
    const a = acquireLock({
      root: dir,
      command: "a",
      beforeTakeOver: async (seen) => {
        expect(seen.pid).toBe(dead.pid);
        winner ??= await acquireLock({ root: dir, command: "b" });
      },
    });
    const e = await lockError(a);
    expect(e.code).toBe(ExitCode.locked);
    expect(e.message).toContain('"b"');
    expect(await readLock(lockFile(dir))).toMatchObject({ command: "b", pid: process.pid });
    await winner?.release();
  });

  it("records the run's hosts; the stale warning names them (or says it cannot)", async () => {
    const dir = await root();
    const lock = await acquireLock({ root: dir, command: "lab apply", hosts: ["web1", "db1"] });
    const h = (await readLock(lockFile(dir)))!;
    expect(h.hosts).toEqual(["web1", "db1"]);
    expect(staleWarning(h)).toMatch(
      /^took over a stale lab lock of dead pid \d+ \(lab apply, started .*\): its remote commands may still be running on web1, db1; check them/,
    );
    const { hosts: _, ...old } = h;
    expect(staleWarning(old)).toContain("may still be running on the hosts it targeted");
    await lock.release();
  });

  it("aborting the wait gives exit 130", async () => {
    const dir = await root();
    await child(dir, "hold");
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const e = await lockError(acquireLock({ root: dir, command: "x", timeoutSec: 30, pollMs: 20, signal: ac.signal }));
    expect(e.code).toBe(ExitCode.interrupted);
  });
});
