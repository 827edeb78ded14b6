// The run context (docs/adr/0010-run-context.md): ONE object that opens, for a
// command, the inventory, the secrets, the lock, the audit log, the transports to
// hosts (a VM guest's address and pinned host key through the resolver passed in)
// and the run-wide API clients, hands them to plan/apply and to workflow commands
// (`lab backup`, `lab drill`), and closes them all. It is the engine's only
// composition root; it imports nothing from resources/ or proxmox/.
import { loadPolicy, type BackupPolicy } from "../backup/policy.ts";
import { loadInventory, type Inventory } from "../inventory/inventory.ts";
import type { LabModel } from "../inventory/model.ts";
import { matchHosts } from "../inventory/patterns.ts";
import { BatchedFacts } from "../facts/cache.ts";
import { loadSecrets } from "../secrets/store.ts";
import { Secret } from "../secrets/secret.ts";
import { openTransport } from "../transport/open.ts";
import type { ExecOptions, ExecResult, Transport } from "../transport/types.ts";
import { appendAudit, type AuditEntry } from "./audit.ts";
import { acquireLock, type Lock, type LockOptions } from "./lock.ts";
import type { RoleTools } from "./playbook.ts";
import { templateRenderer } from "./template.ts";
import type { ConnectionInfo, HostCtx, HostInfo, Logger, Renderer } from "./types.ts";

/** How a host that is a VM's guest is reached: its address and pinned host key (Proxmox guest agent). */
export type GuestResolver = (run: RunContext, ctx: HostCtx, host: HostInfo) => Promise<ConnectionInfo>;

export interface RunContextOptions {
  root: string;
  /** Inventory file or folder. */
  inventory: string;
  extraVars?: Record<string, unknown>;
  /** Aborted on SIGINT/SIGTERM: long waits give up, nothing new starts. */
  signal: AbortSignal;
  log: Logger;
  /** `lab check`: stand-in secrets and stand-in keys for `.pub` files not made yet; nothing is decrypted. */
  standIns?: boolean;
  /** Reaches VM guests (src/proxmox/resources/guest.ts `guestResolver`); without it a `vm:` host cannot be connected to. */
  guests?: GuestResolver;
  /** Tests may swap how hosts are reached. */
  transportFor?: (host: HostInfo) => Transport;
}

/** What an API client factory gets: per-run services, logging and cancellation (no host). */
export interface ServiceCtx {
  readonly log: Logger;
  readonly signal: AbortSignal;
  service<T>(name: string, make: () => Promise<T>): Promise<T>;
}

export class RunContext implements ServiceCtx {
  readonly root: string;
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly template: Renderer;
  readonly #opts: RunContextOptions;
  readonly #secret: (name: string) => Secret;
  readonly #transports = new Map<string, Transport>();
  readonly #facts = new Map<string, BatchedFacts>();
  readonly #services = new Map<string, Promise<unknown>>();
  #lock: Lock | undefined;

  private constructor(
    opts: RunContextOptions,
    readonly inventory: Inventory,
    readonly backups: BackupPolicy,
    secret: (name: string) => Secret,
  ) {
    this.#opts = opts;
    this.root = opts.root;
    this.signal = opts.signal;
    this.log = opts.log;
    this.#secret = secret;
    this.template = templateRenderer(opts.root);
  }

  /** Load and validate the inventory and open the secrets; nothing is contacted. */
  static async open(opts: RunContextOptions): Promise<RunContext> {
    const inv = await loadInventory({
      path: opts.inventory,
      root: opts.root,
      ...(opts.extraVars ? { extraVars: opts.extraVars } : {}),
      missingKeyFiles: opts.standIns ? "stand-in" : "error",
    });
    // Decrypted up front (role expansion is synchronous); a missing key only matters if a role asks for a secret.
    const store = opts.standIns
      ? undefined
      : await loadSecrets({
          root: opts.root,
          missingOk: true,
          ...(process.env.LAB_SECRETS_FILE ? { file: process.env.LAB_SECRETS_FILE } : {}),
        }).then(
          (s) => ({ s }),
          (e: unknown) => ({ e }),
        );
    const secret = (name: string): Secret => {
      if (!store) return new Secret(name, `lab-check-stand-in:${name}`);
      if ("e" in store) throw store.e;
      return store.s.get(name);
    };
    // The backup policy is part of the lab's data: validated with the inventory, before anything is contacted.
    const backups = await loadPolicy({ root: opts.root, inventory: inv });
    return new RunContext(opts, inv, backups, secret);
  }

  /** The typed lab sections (proxmox, vlans, templates, vms, ...). */
  get lab(): LabModel {
    return this.inventory.lab;
  }

  secret(name: string): Secret {
    return this.#secret(name);
  }

  /** What roles get when they are expanded. */
  tools(): RoleTools {
    return {
      template: this.template,
      root: this.root,
      secret: (n) => this.secret(n),
      lab: this.lab,
      backups: this.backups,
      vmKeys: (vm) => this.inventory.vmKeys(vm),
      hosts: this.inventory.hosts,
    };
  }

  /** Hosts of a pattern (`web:db`, `all:!db1`, globs), in inventory order. */
  hosts(pattern: string, source = "host pattern"): HostInfo[] {
    return matchHosts(this.inventory, pattern, source).map((h) => this.inventory.hosts.get(h)!);
  }

  /** Everything a resource or a workflow step may use on one host; the transport connects on first use. */
  host(name: string): HostCtx {
    const host = this.inventory.hosts.get(name);
    if (!host) throw new Error(`RunContext.host: unknown host ${name}`);
    let t = this.#transports.get(name);
    if (!t) {
      const guests = this.#opts.guests;
      t =
        this.#opts.transportFor?.(host) ??
        openTransport(host, guests ? () => guests(this, this.host(name), host) : undefined);
      this.#transports.set(name, t);
    }
    let f = this.#facts.get(name);
    if (!f) this.#facts.set(name, (f = new BatchedFacts(t)));
    return {
      host,
      transport: t,
      facts: f,
      log: this.log,
      project: { root: this.root },
      signal: this.signal,
      service: (key, make) => this.service(key, make),
    };
  }

  /** Run a command on a host (build it with `sh`); never throws for a non-zero exit. */
  exec(host: string, command: string, options?: ExecOptions): Promise<ExecResult> {
    return this.host(host).transport.exec(command, options);
  }

  /** A run-wide service (an API client per endpoint, a VMID allocator): made once, shared by every host, closed with the context. */
  service<T>(key: string, make: () => Promise<T>): Promise<T> {
    let s = this.#services.get(key);
    if (!s) this.#services.set(key, (s = make()));
    return s as Promise<T>;
  }

  /** Fact round trips made to a host so far (recap, benchmark). */
  roundTrips(host: string): number {
    return this.#facts.get(host)?.roundTrips ?? 0;
  }

  /** Take the lab lock (one changing run at a time); released by close(). */
  async lock(command: string, opts: Omit<LockOptions, "root" | "command" | "signal"> = {}): Promise<void> {
    if (this.#lock) return;
    this.#lock = await acquireLock({
      root: this.root,
      command,
      signal: this.signal,
      onWait: (h) =>
        this.log.warn(`waiting for the lab lock held by pid ${h.pid} on ${h.host} since ${h.startedAt} (${h.command})`),
      onStale: (h) => this.log.warn(`took over a stale lab lock of dead pid ${h.pid} (${h.command})`),
      ...opts,
    });
  }

  /** Append one record to the audit log (.lab/audit.jsonl); secrets are redacted there. */
  async audit(entry: AuditEntry): Promise<void> {
    await appendAudit(entry, { root: this.root });
  }

  /** Close transports and services, release the lock. Safe to call twice. */
  async close(): Promise<void> {
    const transports = [...this.#transports.values()];
    this.#transports.clear();
    await Promise.all(transports.map((t) => t.close().catch(() => undefined)));
    // Run-wide services (API clients) hold sockets: close those that can be closed.
    for (const s of this.#services.values())
      void s.then(
        (v) => (v as { close?: () => void } | undefined)?.close?.(),
        () => undefined,
      );
    this.#services.clear();
    await this.#lock?.release();
    this.#lock = undefined;
  }
}
