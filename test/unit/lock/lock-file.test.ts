// The lock file itself: unreadable or malformed locks (being written, or left
// broken), what a held lock's error tells the user, releasing only our own lock,
// and releasing it when the process is killed by any of the signals a run can get.
import { lutimes, mkdir, readFile, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { acquireLock, isStale, lockFile, readLock, staleWarning, type LockHolder } from "../../../src/engine/lock.ts";
import { ExitCode } from "../../../src/errors.ts";
import { child, deadPid, exited, lockError, root } from "./helpers.ts";

async function writeLock(dir: string, text: string, ageMs = 0): Promise<string> {
  await mkdir(join(dir, ".lab"), { recursive: true });
  const file = lockFile(dir);
  await writeFile(file, text);
  const t = (Date.now() - ageMs) / 1000;
  await utimes(file, t, t);
  return file;
}

const good = { pid: 4242, host: "elsewhere", user: "bob", command: "lab apply", startedAt: "2026-12-01T10:00:00.000Z" };
const { pid: _p, ...noPid } = good;
const { host: _h, ...noHost } = good;
const { startedAt: _s, ...noStart } = good;
const malformed: [string, string][] = [
  ["empty (created, not yet written)", ""],
  ["not JSON", "{pid: 1"],
  ["pid is a string", JSON.stringify({ ...good, pid: "4242" })],
  ["no pid", JSON.stringify(noPid)],
  ["host is a number", JSON.stringify({ ...good, host: 7 })],
  ["no host", JSON.stringify(noHost)],
  ["startedAt is a number", JSON.stringify({ ...good, startedAt: 1764583200 })],
  ["no startedAt", JSON.stringify(noStart)],
];

describe("an unreadable lock file", () => {
  it.each(malformed)(
    "%s: has no holder, and once older than 5 s fails with exit 5 saying what to delete",
    async (_name, text) => {
      const dir = await root();
      const file = await writeLock(dir, text, 6000);
      expect(await readLock(file)).toBeUndefined();
      const e = await lockError(acquireLock({ root: dir, command: "x" }));
      expect(e.code).toBe(ExitCode.locked);
      expect(e.message).toBe(`lock file ${file} is unreadable`);
      expect(e.where.file).toBe(file);
      expect(e.format()).toContain(`if no lab run is active, delete ${file}`);
      expect(await readFile(file, "utf8")).toBe(text); // left for the user to look at
    },
  );

  it("a fresh one is a lock being written: the run waits for it instead of failing or deleting it", async () => {
    const dir = await root();
    const file = await writeLock(dir, "");
    // The other run finishes writing its lock (a dead one, here), which is then taken over.
    const dead: LockHolder = {
      pid: await deadPid(),
      host: hostname(),
      user: "x",
      command: "old",
      startedAt: new Date().toISOString(),
    };
    setTimeout(() => void writeFile(file, JSON.stringify(dead)), 150);
    const stale: LockHolder[] = [];
    const lock = await acquireLock({ root: dir, command: "x", onStale: (h) => stale.push(h) });
    expect(stale).toEqual([dead]);
    await lock.release();
  });

  it("a dangling symlink in its place is unreadable too (not a lock to retry at once, forever)", async () => {
    const dir = await root();
    await mkdir(join(dir, ".lab"));
    const file = lockFile(dir);
    await symlink(join(dir, "nowhere"), file);
    const t = (Date.now() - 6000) / 1000;
    await lutimes(file, t, t);
    expect(await readLock(file)).toBeUndefined();
    const e = await lockError(acquireLock({ root: dir, command: "x" }));
    expect(e.message).toBe(`lock file ${file} is unreadable`);
  });

  it("an error other than 'the lock exists' is reported at once, not waited on", async () => {
    const dir = await root();
    const e: unknown = await acquireLock({ root: dir, command: "x", file: join(dir, "x".repeat(300)) }).catch(
      (x: unknown) => x,
    );
    expect(e).toMatchObject({ code: "ENAMETOOLONG" });
  });
});

describe("what the lock records and reads back", () => {
  it("keeps only the fields it knows, as strings; hosts only when they are a list", async () => {
    const dir = await root();
    const file = await writeLock(
      dir,
      JSON.stringify({ ...good, user: 5, command: ["a"], hosts: ["web1", 2], extra: "x" }),
    );
    expect(await readLock(file)).toEqual({ ...good, user: "5", command: "a", hosts: ["web1", "2"] });
    await writeFile(file, JSON.stringify({ ...good, hosts: "web1" }));
    expect(await readLock(file)).toEqual(good);
    const { user: _u, command: _c, ...bare } = good;
    await writeFile(file, JSON.stringify(bare));
    expect(await readLock(file)).toEqual({ ...bare, user: "undefined", command: "undefined" });
  });

  it("an empty host list is not recorded, and the stale warning then says it cannot name them", async () => {
    const dir = await root();
    const lock = await acquireLock({ root: dir, command: "lab apply", hosts: [] });
    const h = (await readLock(lock.file))!;
    expect(h.hosts).toBeUndefined();
    expect(staleWarning({ ...h, hosts: [] })).toContain("may still be running on the hosts it targeted;");
    await lock.release();
  });

  it("creates the .lab directory private (0700) and writes the holder as one JSON line", async () => {
    const dir = await root();
    const lock = await acquireLock({ root: dir, command: "lab apply" });
    expect((await stat(join(dir, ".lab"))).mode & 0o777).toBe(0o700);
    const text = await readFile(lock.file, "utf8");
    expect(text.endsWith("}\n")).toBe(true);
    expect(JSON.parse(text)).toEqual(lock.holder);
    expect(Date.parse(lock.holder.startedAt)).toBeLessThanOrEqual(Date.now());
    await lock.release();
  });
});

describe("the error for a held lock", () => {
  it("says how long ago the run started, and for another host that it may have crashed", async () => {
    const dir = await root();
    const startedAt = new Date(Date.now() - 7 * 60_000 - 10_000).toISOString();
    const file = await writeLock(dir, JSON.stringify({ ...good, startedAt }));
    const e = await lockError(acquireLock({ root: dir, command: "x" }));
    expect(e.message).toBe(
      `another lab run holds the lock: "lab apply" (pid 4242 on elsewhere, user bob, started ${startedAt}, 7 min ago)`,
    );
    expect(e.format()).toContain(
      `wait for it to finish, or rerun with --lock-timeout <seconds> to wait for it; if that run is gone (elsewhere crashed), delete ${file}`,
    );
    expect(e.where.file).toBe(file);
  });

  it("for a live process on this host, says to delete the lock only if that pid is not lab", async () => {
    const dir = await root();
    const p = await child(dir, "hold");
    const e = await lockError(acquireLock({ root: dir, command: "x" }));
    expect(e.format()).toContain(`if pid ${p.pid} is not lab, delete ${lockFile(dir)}`);
    expect(e.format()).not.toContain("crashed");
  });
});

describe("waiting", () => {
  it("a --lock-timeout shorter than the poll interval fails at the timeout, not at the next poll", async () => {
    const dir = await root();
    await writeLock(dir, JSON.stringify(good));
    const t0 = Date.now();
    const e = await lockError(acquireLock({ root: dir, command: "x", timeoutSec: 0.2, pollMs: 10_000 }));
    expect(e.message).toMatch(/^still locked after 0.2s by "lab apply"/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("an interrupted wait says so and names the lock file", async () => {
    const dir = await root();
    const file = await writeLock(dir, JSON.stringify(good));
    const ac = new AbortController();
    const pending = acquireLock({
      root: dir,
      command: "x",
      timeoutSec: 60,
      pollMs: 20,
      signal: ac.signal,
      onWait: () => ac.abort(),
    });
    const e = await lockError(pending);
    expect(e.code).toBe(ExitCode.interrupted);
    expect(e.message).toBe("interrupted while waiting for the lab lock");
    expect(e.where.file).toBe(file);
  });

  it("an unexpected error while taking over is reported, not retried forever", async () => {
    const dir = await root();
    // The lock's name fits, the guard's (lock + ".takeover") is too long for the file system.
    const file = join(dir, "l".repeat(250));
    await writeFile(file, JSON.stringify({ ...good, host: hostname(), pid: await deadPid() }));
    const e: unknown = await acquireLock({ root: dir, command: "x", file }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: "ENAMETOOLONG" });
  });
});

describe("release", () => {
  it("removes only our own lock: one that replaced it (deleted by hand, taken by a new run) stays", async () => {
    const dir = await root();
    const lock = await acquireLock({ root: dir, command: "mine" });
    const other: LockHolder = { ...lock.holder, pid: lock.holder.pid + 1 };
    await writeFile(lock.file, JSON.stringify(other));
    await lock.release();
    expect(await readLock(lock.file)).toEqual(other);
    // Same pid, but a later start: also another run's.
    const again = await acquireLock({ root: dir, command: "mine", file: join(dir, "lock2") });
    const later: LockHolder = { ...again.holder, startedAt: "2099-01-01T00:00:00.000Z" };
    await writeFile(again.file, JSON.stringify(later));
    await again.release();
    expect(await readLock(again.file)).toEqual(later);
  });

  it("leaves no exit or signal handlers behind (a long-lived process takes the lock many times)", async () => {
    const dir = await root();
    const events = ["exit", "SIGINT", "SIGTERM", "SIGHUP"] as const;
    const before = events.map((e) => process.listenerCount(e));
    const lock = await acquireLock({ root: dir, command: "x" });
    expect(events.map((e) => process.listenerCount(e))).toEqual(before.map((n) => n + 1));
    await lock.release();
    expect(events.map((e) => process.listenerCount(e))).toEqual(before);
  });

  it("on a signal the run handles itself, the lock is kept (the run winds down, and exit releases it)", async () => {
    const dir = await root();
    const lock = await acquireLock({ root: dir, command: "x" });
    const runner = () => undefined;
    process.on("SIGTERM", runner);
    try {
      process.emit("SIGTERM", "SIGTERM");
      expect((await readLock(lock.file))?.pid).toBe(process.pid);
    } finally {
      process.off("SIGTERM", runner);
    }
    await lock.release();
  });

  it("on a signal nobody else handles, the lock is released and the signal raised again (so the default action still applies)", async () => {
    const dir = await root();
    const before = process.listenerCount("SIGHUP");
    const lock = await acquireLock({ root: dir, command: "x" });
    const kill = vi.spyOn(process, "kill").mockImplementation(() => true);
    try {
      process.emit("SIGHUP", "SIGHUP");
      expect(kill.mock.calls).toEqual([[process.pid, "SIGHUP"]]);
    } finally {
      kill.mockRestore();
    }
    expect(await readLock(lock.file)).toBeUndefined();
    expect(process.listenerCount("SIGHUP")).toBe(before);
  });

  it.each(["SIGINT", "SIGHUP"] as const)(
    "a run killed by %s (no handler of its own) releases the lock and still dies of it",
    async (sig) => {
      const dir = await root();
      const p = await child(dir, "hold");
      p.kill(sig);
      await exited(p);
      expect(p.signalCode).toBe(sig);
      expect(await readLock(lockFile(dir))).toBeUndefined();
    },
  );
});

describe("isStale", () => {
  it("a dead pid on this host is stale; a live one, or any pid on another host, is not", async () => {
    expect(isStale({ ...good, host: hostname(), pid: process.pid })).toBe(false);
    expect(isStale({ ...good, host: hostname(), pid: await deadPid() })).toBe(true);
    expect(isStale({ ...good, host: `not-${hostname()}`, pid: await deadPid() })).toBe(false);
  });

  it("a pid that may not be signalled (EPERM: another user's live process) is not stale", () => {
    // Tests run as root, for whom kill(pid, 0) never fails with EPERM: the errno is what is under test.
    const kill = vi.spyOn(process, "kill").mockImplementation(() => {
      throw Object.assign(new Error("kill EPERM"), { code: "EPERM" });
    });
    try {
      expect(isStale({ ...good, host: hostname(), pid: 1 })).toBe(false);
    } finally {
      kill.mockRestore();
    }
  });
});
