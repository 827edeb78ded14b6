// One `lab apply` at a time per lab: `.lab/lock`, created with O_EXCL, holding
// who runs what. A second run waits (--lock-timeout) or fails with exit 5 naming
// the holder. A lock left by a dead process on this host is taken over.
import { readFileSync, unlinkSync } from "node:fs";
import { lstat, mkdir, open, readFile, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ExitCode, LabError } from "../errors.ts";
import { redact } from "../secrets/secret.ts";
import { currentUser } from "../user.ts";

export interface LockHolder {
  pid: number;
  host: string;
  user: string;
  command: string;
  /** ISO 8601. */
  startedAt: string;
  /** The hosts the run targets: after it died, its remote commands may still be running there. */
  hosts?: string[];
}

export interface LockOptions {
  /** Project root; the lock is `<root>/.lab/lock` unless `file` is given. */
  root: string;
  file?: string;
  /** What this run is, for whoever finds the lock ("lab apply site.ts --limit web"). Redacted. */
  command: string;
  /** Seconds to wait for a held lock (0, the default: fail at once). */
  timeoutSec?: number;
  /** Poll interval while waiting (default 500 ms). */
  pollMs?: number;
  /** Aborting stops the wait (SIGINT while waiting). */
  signal?: AbortSignal;
  /** Called once when starting to wait for another run. */
  onWait?(holder: LockHolder): void;
  /** Called when a stale lock (dead pid on this host) is taken over. */
  onStale?(holder: LockHolder): void;
  /** The hosts this run targets, recorded in the lock (see staleWarning). */
  hosts?: readonly string[];
  /** Test seam: runs after a stale lock was seen and before it is taken over (where another run may interleave). */
  beforeTakeOver?(holder: LockHolder): Promise<void>;
}

export interface Lock {
  readonly file: string;
  readonly holder: LockHolder;
  /** Idempotent; removes the lock only if it is still ours. */
  release(): Promise<void>;
}

export const lockFile = (root: string): string => join(root, ".lab", "lock");

/** Dead pid on this host. A lock from another host cannot be checked from here. */
export function isStale(h: LockHolder): boolean {
  if (h.host !== hostname()) return false;
  try {
    process.kill(h.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH"; // EPERM: alive, another user's
  }
}

type Found = { holder: LockHolder } | { corrupt: true; ageMs: number } | undefined;

/** The current holder; undefined when there is no lock. */
export async function readLock(file: string): Promise<LockHolder | undefined> {
  const f = await inspectLock(file);
  return f && "holder" in f ? f.holder : undefined;
}

export async function acquireLock(opts: LockOptions): Promise<Lock> {
  const file = opts.file ?? lockFile(opts.root);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    user: currentUser(),
    command: redact(opts.command),
    startedAt: new Date().toISOString(),
    ...(opts.hosts?.length ? { hosts: [...opts.hosts] } : {}),
  };
  const timeoutSec = opts.timeoutSec ?? 0;
  const deadline = Date.now() + timeoutSec * 1000;
  const pollMs = opts.pollMs ?? 500;
  let waiting = false;

  for (;;) {
    if (await tryCreate(file, me)) return hold(file, me);
    const found = await inspectLock(file);
    if (!found) continue; // released between our open and read: try again now
    if ("corrupt" in found) {
      // Being written right now (O_EXCL creates it empty first), or left half-written long ago.
      if (found.ageMs > 5000) {
        throw new LabError(
          `lock file ${file} is unreadable`,
          ExitCode.locked,
          { file },
          `if no lab run is active, delete ${file}`,
        );
      }
    } else if (isStale(found.holder)) {
      await opts.beforeTakeOver?.(found.holder);
      if (await takeOver(file, found.holder)) opts.onStale?.(found.holder);
      else await sleep(50);
      continue;
    } else if (Date.now() >= deadline) {
      throw lockedError(file, found.holder, timeoutSec);
    } else if (!waiting) {
      waiting = true;
      opts.onWait?.(found.holder);
    }
    try {
      await sleep(Math.max(10, Math.min(pollMs, deadline - Date.now())), undefined, { signal: opts.signal });
    } catch {
      throw new LabError("interrupted while waiting for the lab lock", ExitCode.interrupted, { file });
    }
  }
}

async function tryCreate(file: string, me: LockHolder): Promise<boolean> {
  let fh;
  try {
    fh = await open(file, "wx", 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
  try {
    await fh.writeFile(`${JSON.stringify(me)}\n`);
    await fh.sync();
  } catch (e) {
    await unlink(file).catch(() => undefined);
    throw e;
  } finally {
    await fh.close();
  }
  return true;
}

async function inspectLock(file: string): Promise<Found> {
  try {
    const text = await readFile(file, "utf8");
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (typeof h.pid !== "number" || typeof h.host !== "string" || typeof h.startedAt !== "string")
      throw new Error("bad lock");
    const hosts = Array.isArray(h.hosts) ? h.hosts.map(String) : undefined;
    return {
      holder: {
        pid: h.pid,
        host: h.host,
        user: String(h.user),
        command: String(h.command),
        startedAt: h.startedAt,
        ...(hosts ? { hosts } : {}),
      },
    };
  } catch {
    // Gone (released): no lock. Anything still there is unreadable, a dangling symlink too
    // (it reads as ENOENT, but O_EXCL cannot create over it: retrying at once would spin forever).
    const st = await lstat(file).catch(() => undefined);
    return st && { corrupt: true, ageMs: Date.now() - st.mtimeMs };
  }
}

const same = (a: LockHolder, b: LockHolder): boolean =>
  a.pid === b.pid && a.host === b.host && a.startedAt === b.startedAt;

/**
 * Remove a stale lock under a short-lived guard file: without it, two runs that both
 * saw the same stale lock could each delete it, the second deleting the first's new lock.
 */
async function takeOver(file: string, stale: LockHolder): Promise<boolean> {
  const guard = `${file}.takeover`;
  let fh;
  try {
    fh = await open(guard, "wx", 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    // A guard older than 10 s belongs to a run that died mid-takeover.
    const age = await stat(guard).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > 10_000) await unlink(guard).catch(() => undefined);
    return false;
  }
  try {
    const now = await inspectLock(file);
    if (!now || !("holder" in now) || !same(now.holder, stale)) return false;
    await unlink(file).catch(() => undefined);
    return true;
  } finally {
    await fh.close();
    await unlink(guard).catch(() => undefined);
  }
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function hold(file: string, me: LockHolder): Lock {
  let released = false;
  const releaseSync = (): void => {
    if (released) return;
    released = true;
    process.off("exit", releaseSync);
    for (const s of SIGNALS) process.off(s, onSignal);
    try {
      // Only ours: someone may have deleted it by hand and a new run taken it.
      const cur = JSON.parse(readFileSync(file, "utf8")) as LockHolder;
      if (same(cur, me)) unlinkSync(file);
    } catch {
      // already gone or unreadable: nothing of ours to remove
    }
  };
  // If another listener (the runner) handles the signal, it will wind down and exit,
  // and 'exit' releases: releasing now would let a second run in while we still apply.
  // If we are the only listener, release and re-raise so the default action still kills us.
  const onSignal = (sig: NodeJS.Signals): void => {
    if (process.listenerCount(sig) > 1) return;
    releaseSync();
    process.kill(process.pid, sig);
  };
  process.on("exit", releaseSync);
  for (const s of SIGNALS) process.on(s, onSignal);
  return { file, holder: me, release: () => Promise.resolve(releaseSync()) };
}

/** What to tell the user after taking over a dead run's lock: lab died, but what it started on hosts may not have. */
export function staleWarning(h: LockHolder): string {
  const where = h.hosts?.length ? `on ${h.hosts.join(", ")}` : "on the hosts it targeted";
  return (
    `took over a stale lab lock of dead pid ${h.pid} (${h.command}, started ${h.startedAt}): ` +
    `its remote commands may still be running ${where}; check them before trusting this run's results`
  );
}

function lockedError(file: string, h: LockHolder, waitedSec: number): LabError {
  const mins = Math.round((Date.now() - Date.parse(h.startedAt)) / 60_000);
  const who = `"${h.command}" (pid ${h.pid} on ${h.host}, user ${h.user}, started ${h.startedAt}, ${mins} min ago)`;
  const what = waitedSec > 0 ? `still locked after ${waitedSec}s by ${who}` : `another lab run holds the lock: ${who}`;
  const gone =
    h.host === hostname()
      ? `if pid ${h.pid} is not lab, delete ${file}`
      : `if that run is gone (${h.host} crashed), delete ${file}`;
  return new LabError(
    what,
    ExitCode.locked,
    { file },
    `wait for it to finish, or rerun with --lock-timeout <seconds> to wait for it; ${gone}`,
  );
}
