// Waiting for UPIDs with a scripted API: UPID parsing, the start-up grace,
// warnings judged per task type, and the log tail of a failure.
import { describe, expect, it } from "vitest";
import { ProxmoxApiError, ProxmoxTaskError } from "../../../src/proxmox/errors.ts";
import { type TaskApi, parseUpid, waitForTask } from "../../../src/proxmox/tasks.ts";
import type { Envelope } from "../../../src/proxmox/transport.ts";

const upid = (type: string, id = "100"): string => `UPID:pve1:0020C066:042DF204:69C26EB0:${type}:${id}:root@pam!lab:`;

/** Status replies in order (the last one repeats), and a log of `lines`. */
function scripted(statuses: (Record<string, unknown> | Error)[], lines: string[] = []): TaskApi & { calls: string[] } {
  const calls: string[] = [];
  let i = 0;
  return {
    calls,
    envelope: (_m, path, params): Promise<Envelope> => {
      calls.push(`${path.split("/").pop()}${params ? JSON.stringify(params) : ""}`);
      if (path.endsWith("/log")) {
        const start = Number(params?.start ?? 0);
        const limit = Number(params?.limit ?? 50);
        return Promise.resolve({
          data: lines.slice(start, start + limit).map((t, n) => ({ n: start + n + 1, t })),
          extra: { total: lines.length },
        });
      }
      const next = statuses[Math.min(i++, statuses.length - 1)]!;
      return next instanceof Error ? Promise.reject(next) : Promise.resolve({ data: next, extra: {} });
    },
  };
}
const stopped = (exitstatus: string): Record<string, unknown> => ({ status: "stopped", exitstatus });

describe("parseUpid", () => {
  it("reads PVE and PBS UPIDs, tokens included", () => {
    expect(parseUpid("UPID:pve1:0020C066:042DF204:69C26EB0:vzdump::root@pam:")).toMatchObject({
      node: "pve1",
      type: "vzdump",
      id: "",
      user: "root@pam",
      starttime: 0x69c26eb0,
    });
    expect(parseUpid(upid("qmclone", "9000"))).toMatchObject({ type: "qmclone", id: "9000", user: "root@pam!lab" });
    expect(parseUpid("UPID:pbs:000003E8:0000C3BD:00000001:6650A1B2:garbage_collection:store1:root@pam:")).toMatchObject(
      { node: "pbs", type: "garbage_collection", id: "store1" },
    );
    expect(parseUpid("OK")).toBeUndefined();
  });
});

describe("waitForTask", () => {
  it("polls until the task stops", async () => {
    const api = scripted([{ status: "running" }, { status: "running" }, stopped("OK")]);
    expect(await waitForTask(api, upid("qmstart"), { pollMs: 1 })).toEqual({
      upid: upid("qmstart"),
      exitstatus: "OK",
      warnings: [],
    });
    expect(api.calls.filter((c) => c === "status")).toHaveLength(3);
  });

  it("tolerates 'no such task' right after the start", async () => {
    const missing = new ProxmoxApiError("https://pve", "GET", "/status", 400, "Parameter verification failed.", {
      upid: "no such task",
    });
    const api = scripted([missing, missing, stopped("OK")]);
    expect((await waitForTask(api, upid("qmclone"), { pollMs: 1 })).exitstatus).toBe("OK");
  });

  it("does not tolerate other errors", async () => {
    const denied = new ProxmoxApiError("https://pve", "GET", "/status", 403, "Permission check failed");
    await expect(waitForTask(scripted([denied]), upid("qmstart"), { pollMs: 1 })).rejects.toBe(denied);
  });

  it("accepts warnings of a start, refuses those of a backup (and lets callers override)", async () => {
    const lines = ["starting", "WARN: guest agent not reachable", "TASK WARNINGS: 1"];
    expect(
      (await waitForTask(scripted([stopped("WARNINGS: 1")], lines), upid("qmstart"), { pollMs: 1 })).warnings,
    ).toEqual(["WARN: guest agent not reachable"]);
    await expect(waitForTask(scripted([stopped("WARNINGS: 1")], lines), upid("vzdump"), { pollMs: 1 })).rejects.toThrow(
      "task vzdump 100 on pve1 failed: WARNINGS: 1",
    );
    const lenient = await waitForTask(scripted([stopped("WARNINGS: 1")], lines), upid("vzdump"), {
      pollMs: 1,
      warnings: { vzdump: "ok" },
    });
    expect(lenient.exitstatus).toBe("WARNINGS: 1");
    await expect(
      waitForTask(scripted([stopped("WARNINGS: 1")], lines), upid("qmstart"), {
        pollMs: 1,
        warnings: { qmstart: "fail" },
      }),
    ).rejects.toBeInstanceOf(ProxmoxTaskError);
  });

  it("shows only the last lines of a long failing log", async () => {
    const lines = [...Array.from({ length: 30 }, (_, i) => `line ${i + 1}`), "TASK ERROR: storage 'nfs' is not online"];
    const api = scripted([stopped("storage 'nfs' is not online")], lines);
    const err = (await waitForTask(api, upid("qmcreate"), { pollMs: 1, tailLines: 3 }).catch(
      (e: unknown) => e,
    )) as ProxmoxTaskError;
    expect(err.logTail).toEqual(["line 29", "line 30", "TASK ERROR: storage 'nfs' is not online"]);
    expect(err.message).toBe(
      "task qmcreate 100 on pve1 failed: storage 'nfs' is not online\n  task log (last lines):\n    line 29\n    line 30\n    TASK ERROR: storage 'nfs' is not online",
    );
    expect(api.calls).toContain('log{"start":28,"limit":3}');
  });

  it("refuses something that is not a UPID", async () => {
    await expect(waitForTask(scripted([]), "OK")).rejects.toThrow("'OK' is not a Proxmox task id (UPID)");
  });
});
