// A simulator per test file, and a bare HTTPS caller that shows the wire as it
// is (status line, headers, raw body) — the client under test lives elsewhere.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Simulator, type SimulatorOptions, startSimulator } from "../../../src/sim/index.ts";

export interface Reply {
  status: number;
  statusText: string;
  headers: Record<string, string | string[] | undefined>;
  raw: string;
  /** The parsed JSON ({} when the body is empty or not JSON). */
  body: ReplyBody;
}

export interface ReplyBody {
  data?: unknown;
  errors?: Record<string, string>;
  message?: string;
  total?: number;
  changes?: string;
}

export interface CallOptions {
  /** Default: the simulator's root@pam!lab token. */
  headers?: Record<string, string>;
  /** Send a JSON body instead of a form. */
  json?: boolean;
  /** Use this base URL (e.g. the PBS listener). */
  base?: string;
}

export interface TestSim {
  sim: Simulator;
  dir: string;
  call(method: string, path: string, params?: Record<string, unknown>, opts?: CallOptions): Promise<Reply>;
  /** Call, expect 200, return `data`. */
  ok<T = unknown>(method: string, path: string, params?: Record<string, unknown>, opts?: CallOptions): Promise<T>;
  /** Wait for a UPID to stop; returns its status. */
  task(upid: string): Promise<{ exitstatus: string; log: string[] }>;
  /** Restart on the same state dir. */
  restart(extra?: Partial<SimulatorOptions>): Promise<void>;
  close(): Promise<void>;
}

export async function startTestSim(extra: Partial<SimulatorOptions> = {}): Promise<TestSim> {
  const dir = mkdtempSync(join(tmpdir(), "lab-sim-"));
  let sim = await startSimulator({ stateDir: dir, taskDelayMs: 20, ...extra });
  const ca = readFileSync(sim.caFile);

  const call = (
    method: string,
    path: string,
    params: Record<string, unknown> = {},
    opts: CallOptions = {},
  ): Promise<Reply> => {
    const url = new URL(`${opts.base ?? sim.url}${path.startsWith("/_sim/") ? "" : "/api2/json"}${path}`);
    let body: string | undefined;
    const headers: Record<string, string> = opts.headers ?? {
      Authorization: `PVEAPIToken=${sim.tokenId}=${sim.tokenSecret}`,
    };
    const form = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
    if (method === "GET" || method === "DELETE") {
      url.search = form.toString();
    } else {
      body = opts.json ? JSON.stringify(params) : form.toString();
      headers["Content-Type"] = opts.json ? "application/json" : "application/x-www-form-urlencoded";
    }
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers, ca }, (res) => {
        let raw = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (raw += d));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? "",
            headers: res.headers,
            raw,
            body: parseJson(raw),
          }),
        );
      });
      req.on("error", reject);
      req.end(body);
    });
  };

  const t: TestSim = {
    get sim() {
      return sim;
    },
    dir,
    call,
    ok: async <T>(method: string, path: string, params?: Record<string, unknown>, opts?: CallOptions): Promise<T> => {
      const r = await call(method, path, params, opts);
      if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${r.statusText} ${r.raw}`);
      return r.body.data as T;
    },
    task: async (upid) => {
      const node = upid.split(":")[1]!;
      for (;;) {
        const status = await t.ok<{ status: string; exitstatus: string }>(
          "GET",
          `/nodes/${node}/tasks/${encodeURIComponent(upid)}/status`,
        );
        if (status.status === "stopped") {
          const log = await t.ok<{ t: string }[]>("GET", `/nodes/${node}/tasks/${encodeURIComponent(upid)}/log`, {
            limit: 0,
          });
          return { exitstatus: status.exitstatus, log: log.map((l) => l.t) };
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    restart: async (more = {}) => {
      await sim.stop();
      sim = await startSimulator({ stateDir: dir, taskDelayMs: 20, ...extra, ...more });
    },
    close: async () => {
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}

/** Run a call that returns a UPID and wait for the task; returns its exit status. */
export async function runTask(
  t: TestSim,
  method: string,
  path: string,
  params?: Record<string, unknown>,
): Promise<{ exitstatus: string; log: string[] }> {
  return t.task(await t.ok<string>(method, path, params));
}

/** A minimal VM: 1 GiB disk on local-lvm, virtio NIC on vmbr0. */
export async function createVm(t: TestSim, vmid: number, extra: Record<string, unknown> = {}): Promise<void> {
  const r = await runTask(t, "POST", "/nodes/pve/qemu", {
    vmid,
    name: `vm${vmid}`,
    memory: 512,
    scsi0: "local-lvm:1",
    net0: "virtio,bridge=vmbr0",
    ...extra,
  });
  if (r.exitstatus !== "OK") throw new Error(`create ${vmid}: ${r.exitstatus}`);
}

/** PBS errors are plain text although labelled JSON. */
function parseJson(raw: string): ReplyBody {
  try {
    return raw ? (JSON.parse(raw) as ReplyBody) : {};
  } catch {
    return {};
  }
}

/** A recorded real-server exchange (see ../shared/pve-api/recorded/README.md). */
export interface Recorded {
  request: { method: string; path: string; query: Record<string, string> | null; form: Record<string, string> | null };
  response: { status: number; reason: string; content_type: string | null; body_raw: string; body: ReplyBody };
}

export const fixture = (name: string): Recorded =>
  JSON.parse(readFileSync(new URL(`../../fixtures/pve/${name}`, import.meta.url), "utf8")) as Recorded;
