// The Proxmox client lab uses: pinned TLS, token or ticket auth, retries of
// transient failures, every task waited for, and a recorder hook. Its calls
// take concrete paths; product code calls through the typed layer on top of
// it (typed.ts, `pveApi()` in resources/api.ts), checked against the schema.
import type { Logger } from "../log.ts";
import { ALREADY_DONE, type RetryPolicy, withRetry } from "./retry.ts";
import { type TaskResult, type TaskWaitOptions, parseUpid, waitForTask } from "./tasks.ts";
import { pinnedAgent, type TlsTrust } from "./tls.ts";
import type { HttpMethod } from "./schema.ts";
import {
  ApiTransport,
  type Credentials,
  type Envelope,
  type Params,
  type Product,
  type RecordedCall,
} from "./transport.ts";

export type { Credentials, Envelope, Params, RecordedCall } from "./transport.ts";
export type { TlsTrust } from "./tls.ts";
export type { HttpMethod } from "./schema.ts";

export interface ProxmoxClientOptions {
  /** The endpoint, e.g. https://pve1.lan:8006 (no path). */
  readonly url: string;
  readonly auth: Credentials;
  /** Required: a CA file or a SHA-256 fingerprint to pin. TLS is never unverified. */
  readonly tls: TlsTrust;
  /** "pbs" for a Proxmox Backup Server (token/cookie syntax differ). Default "pve". */
  readonly product?: Product;
  /** Per request (default 30 s). */
  readonly timeoutMs?: number;
  readonly retry?: RetryPolicy;
  /** Defaults for every task wait. */
  readonly tasks?: TaskWaitOptions;
  /** Called for every HTTP exchange (method, path, parameter names, status). */
  readonly recorder?: (call: RecordedCall) => void;
  readonly log?: Pick<Logger, "debug">;
  /** Aborts waits and requests (SIGINT). */
  readonly signal?: AbortSignal;
}

export class ProxmoxClient {
  private constructor(
    private readonly transport: ApiTransport,
    private readonly opts: ProxmoxClientOptions,
    private readonly destroyAgent: () => void,
    /** SHA-256 fingerprint of the pinned certificate (when pinned by fingerprint). */
    readonly fingerprint: string | undefined,
  ) {}

  static async connect(opts: ProxmoxClientOptions): Promise<ProxmoxClient> {
    const base = new URL(opts.url);
    if (base.protocol !== "https:") throw new Error(`Proxmox endpoint ${opts.url} must use https`);
    const { agent, fingerprint } = await pinnedAgent(base, opts.tls);
    const transport = new ApiTransport({
      base,
      agent,
      credentials: opts.auth,
      trust: opts.tls,
      product: opts.product ?? "pve",
      timeoutMs: opts.timeoutMs ?? 30_000,
      recorder: opts.recorder,
      signal: opts.signal,
    });
    return new ProxmoxClient(transport, opts, () => agent.destroy(), fingerprint);
  }

  get endpoint(): string {
    return this.transport.endpoint;
  }

  /** The whole reply (data + `total`/`changes`), with retries. Undefined data: a retry found it "already exists". */
  async envelope(method: HttpMethod, path: string, params?: Params): Promise<Envelope> {
    const result = await withRetry(() => this.transport.send(method, path, params), this.opts.retry, {
      signal: this.opts.signal,
      onRetry: (err, attempt, ms) =>
        this.opts.log?.debug(
          `${method} ${this.endpoint}${path}: retry ${attempt} in ${ms} ms (${err instanceof Error ? err.message : String(err)})`,
        ),
    });
    if (result === ALREADY_DONE) {
      this.opts.log?.debug(`${method} ${this.endpoint}${path}: already done by an earlier, unanswered try`);
      return { data: undefined, extra: {} };
    }
    return result;
  }

  /** `data` of a call, with retries. */
  async request<T = unknown>(method: HttpMethod, path: string, params?: Params): Promise<T> {
    return (await this.envelope(method, path, params)).data as T;
  }

  get<T = unknown>(path: string, params?: Params): Promise<T> {
    return this.request<T>("GET", path, params);
  }

  post<T = unknown>(path: string, params?: Params): Promise<T> {
    return this.request<T>("POST", path, params);
  }

  put<T = unknown>(path: string, params?: Params): Promise<T> {
    return this.request<T>("PUT", path, params);
  }

  delete<T = unknown>(path: string, params?: Params): Promise<T> {
    return this.request<T>("DELETE", path, params);
  }

  /**
   * Run a call that may start a worker and wait for it. Calls that finished
   * synchronously (null, "OK", PVE 6's sync template/resize) count as done.
   */
  async run(
    method: HttpMethod,
    path: string,
    params?: Params,
    wait?: TaskWaitOptions,
  ): Promise<TaskResult | undefined> {
    const data = await this.request(method, path, params);
    if (typeof data !== "string" || !parseUpid(data)) return undefined;
    return this.waitTask(data, wait);
  }

  waitTask(upid: string, wait?: TaskWaitOptions): Promise<TaskResult> {
    return waitForTask(this, upid, { signal: this.opts.signal, ...this.opts.tasks, ...wait });
  }

  close(): void {
    this.destroyAgent();
  }
}
