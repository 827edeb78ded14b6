// Which failures are retried, how often, and "already exists" after a retry.
import { describe, expect, it } from "vitest";
import { ProxmoxApiError } from "../../../src/proxmox/errors.ts";
import { ALREADY_DONE, isAlreadyExists, isTransient, withRetry } from "../../../src/proxmox/retry.ts";

const api = (status: number, reason: string, errno?: string, errors: Record<string, string> = {}): ProxmoxApiError =>
  new ProxmoxApiError("https://pve:8006", "POST", "/x", status, reason, errors, errno);
const noSleep = { sleep: () => Promise.resolve() };

describe("isTransient", () => {
  it.each([
    [api(0, "socket hang up", "ECONNRESET"), true],
    [api(0, "connect refused", "ECONNREFUSED"), true],
    [api(0, "no answer", "ETIMEDOUT"), true],
    [api(503, "Service Unavailable"), true],
    [api(596, "Broken pipe"), true],
    [api(500, "can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout"), true],
    [api(500, "cfs-lock 'file-user_cfg' error: got lock request timeout"), true],
    [api(500, "VM 100 already running"), false],
    [api(500, "Configuration file 'nodes/pve/qemu-server/101.conf' does not exist"), false],
    [api(400, "Parameter verification failed."), false],
    [api(401, "authentication failure"), false],
    [api(403, "Permission check failed (/vms/100, VM.Allocate)"), false],
    [api(501, "Method 'GET /x' not implemented"), false],
    [api(0, "certificate", "DEPTH_ZERO_SELF_SIGNED_CERT"), false],
    [new Error("ECONNRESET"), false],
  ])("%s -> %s", (err, transient) => {
    expect(isTransient(err)).toBe(transient);
  });

  it("sees 'already exists' in the reason or in a parameter error", () => {
    expect(isAlreadyExists(api(500, "unable to create VM 100 - VM 100 already exists on node 'pve'"))).toBe(true);
    expect(
      isAlreadyExists(api(400, "Parameter verification failed.", undefined, { iface: "interface already exists" })),
    ).toBe(true);
    expect(isAlreadyExists(api(500, "storage ID 'pbs' already defined"))).toBe(true);
    expect(isAlreadyExists(api(500, "VM 100 not running"))).toBe(false);
  });
});

describe("withRetry", () => {
  const failing = (errors: Error[], then: string): { fn: () => Promise<string>; tries: () => number } => {
    let calls = 0;
    const fn = (): Promise<string> =>
      calls++ < errors.length ? Promise.reject(errors[calls - 1]!) : Promise.resolve(then);
    return { fn, tries: () => calls };
  };

  it("retries transient errors with growing delays, then succeeds", async () => {
    const delays: number[] = [];
    const f = failing([api(0, "reset", "ECONNRESET"), api(503, "busy")], "ok");
    const result = await withRetry(
      f.fn,
      { attempts: 4, baseMs: 100 },
      { ...noSleep, onRetry: (_e, _a, ms) => delays.push(ms) },
    );
    expect(result).toBe("ok");
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(75);
    expect(delays[1]).toBeGreaterThanOrEqual(150);
  });

  it("stops at the first permanent error", async () => {
    const f = failing([api(403, "Permission check failed")], "ok");
    await expect(withRetry(f.fn, {}, noSleep)).rejects.toThrow(/403/);
    expect(f.tries()).toBe(1);
  });

  it("gives up after `attempts` tries", async () => {
    const f = failing([api(502, "a"), api(502, "b"), api(502, "c")], "ok");
    await expect(withRetry(f.fn, { attempts: 2 }, noSleep)).rejects.toThrow(/502 b/);
  });

  it("turns 'already exists' on a retry into ALREADY_DONE, but not on the first try", async () => {
    const exists = api(500, "unable to create VM 100 - VM 100 already exists on node 'pve'");
    expect(await withRetry(failing([api(0, "reset", "ECONNRESET"), exists], "x").fn, {}, noSleep)).toBe(ALREADY_DONE);
    await expect(withRetry(failing([exists], "x").fn, {}, noSleep)).rejects.toBe(exists);
  });
});
