// Taking over a dead run's lock, with the races made deterministic through the
// beforeTakeOver seam: the lock is re-read under the guard file and removed only
// if it is still exactly the dead holder that was seen; a guard left by a run that
// died mid-takeover is cleared once old, a live one is respected.
import { mkdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acquireLock, lockFile, readLock, type LockHolder } from "../../../src/engine/lock.ts";
import { ExitCode } from "../../../src/errors.ts";
import { deadPid, lockError, root } from "./helpers.ts";

async function staleLock(dir: string, extra: Partial<LockHolder> = {}): Promise<LockHolder> {
  await mkdir(join(dir, ".lab"), { recursive: true });
  const dead: LockHolder = {
    pid: await deadPid(),
    host: hostname(),
    user: "x",
    command: "old",
    startedAt: "2026-12-01T10:00:00.000Z",
    ...extra,
  };
  await writeFile(lockFile(dir), JSON.stringify(dead));
  return dead;
}

const ago = async (file: string, ms: number) => {
  const t = (Date.now() - ms) / 1000;
  await utimes(file, t, t);
};

describe("stale-lock takeover re-checks the lock it is about to delete", () => {
  it("another dead run's lock (same host, other pid) appeared meanwhile: that one is taken over, and reported", async () => {
    const dir = await root();
    const first = await staleLock(dir);
    const second: LockHolder = { ...first, pid: await deadPid(), command: "older run" };
    const seen: number[] = [];
    const stale: LockHolder[] = [];
    const lock = await acquireLock({
      root: dir,
      command: "new",
      onStale: (h) => stale.push(h),
      beforeTakeOver: async (h) => {
        seen.push(h.pid);
        if (seen.length === 1) await writeFile(lockFile(dir), JSON.stringify(second));
      },
    });
    expect(seen).toEqual([first.pid, second.pid]);
    expect(stale).toEqual([second]);
    expect((await readLock(lockFile(dir)))?.pid).toBe(process.pid);
    await lock.release();
  });

  it("a lock with the same dead pid but another start time is another run's: re-read before it is deleted", async () => {
    const dir = await root();
    const first = await staleLock(dir);
    const second: LockHolder = { ...first, startedAt: "2026-12-01T11:00:00.000Z" };
    const stale: LockHolder[] = [];
    let calls = 0;
    const lock = await acquireLock({
      root: dir,
      command: "new",
      onStale: (h) => stale.push(h),
      beforeTakeOver: async () => {
        if (++calls === 1) await writeFile(lockFile(dir), JSON.stringify(second));
      },
    });
    expect(calls).toBe(2);
    expect(stale).toEqual([second]);
    await lock.release();
  });

  it("the lock now names the same pid on another host: it is not taken over (exit 5 naming that host)", async () => {
    const dir = await root();
    const first = await staleLock(dir);
    const remote: LockHolder = { ...first, host: `not-${hostname()}` };
    const stale: LockHolder[] = [];
    const e = await lockError(
      acquireLock({
        root: dir,
        command: "new",
        onStale: (h) => stale.push(h),
        beforeTakeOver: async () => writeFile(lockFile(dir), JSON.stringify(remote)),
      }),
    );
    expect(e.code).toBe(ExitCode.locked);
    expect(e.format()).toContain(`on ${remote.host}`);
    expect(stale).toEqual([]);
    expect(await readLock(lockFile(dir))).toEqual(remote);
  });

  it("the stale lock was removed meanwhile: the lock is simply taken, no takeover reported", async () => {
    const dir = await root();
    await staleLock(dir);
    const stale: LockHolder[] = [];
    const lock = await acquireLock({
      root: dir,
      command: "new",
      onStale: (h) => stale.push(h),
      beforeTakeOver: () => rm(lockFile(dir)),
    });
    expect(stale).toEqual([]);
    expect((await readLock(lockFile(dir)))?.pid).toBe(process.pid);
    await lock.release();
  });

  it("the lock is being rewritten meanwhile (unreadable): it is left alone until it is readable or gone", async () => {
    const dir = await root();
    await staleLock(dir);
    const stale: LockHolder[] = [];
    let contentWhenRetried = "";
    const lock = await acquireLock({
      root: dir,
      command: "new",
      onStale: (h) => stale.push(h),
      beforeTakeOver: async () => {
        await writeFile(lockFile(dir), ""); // O_EXCL-created, not yet written
        setTimeout(
          () =>
            void readFile(lockFile(dir), "utf8")
              .then((t) => (contentWhenRetried = t))
              .then(() => rm(lockFile(dir))),
          100,
        );
      },
    });
    expect(contentWhenRetried).toBe(""); // the half-written lock was not deleted by the takeover
    expect(stale).toEqual([]);
    await lock.release();
  });
});

describe("the takeover guard file", () => {
  it("a live guard (another run is taking over right now) is respected until it is gone", async () => {
    const dir = await root();
    const dead = await staleLock(dir);
    const guard = `${lockFile(dir)}.takeover`;
    await writeFile(guard, "");
    const stale: LockHolder[] = [];
    let tries = 0;
    const lock = await acquireLock({
      root: dir,
      command: "new",
      onStale: (h) => stale.push(h),
      beforeTakeOver: async () => {
        if (++tries < 3) return;
        // Two rounds later the guard is still there and the dead run's lock untouched; now the other run finishes.
        await stat(guard);
        expect(await readLock(lockFile(dir))).toEqual(dead);
        await rm(guard);
      },
    });
    expect(tries).toBe(3); // two refused while the guard lived, then the takeover
    expect(stale).toEqual([dead]);
    await lock.release();
  });

  it("a guard older than 10 s (its run died mid-takeover) is removed, and the stale lock taken over", async () => {
    const dir = await root();
    const dead = await staleLock(dir);
    const guard = `${lockFile(dir)}.takeover`;
    await writeFile(guard, "");
    await ago(guard, 11_000);
    const stale: LockHolder[] = [];
    const lock = await acquireLock({ root: dir, command: "new", onStale: (h) => stale.push(h) });
    expect(stale).toEqual([dead]);
    await expect(stat(guard)).rejects.toMatchObject({ code: "ENOENT" });
    await lock.release();
  });
});
