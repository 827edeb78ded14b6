// The one contract every resource implements: read -> diff -> apply.
// read() has no side effects, diff() is pure, apply() is the only writer.
import type { Logger } from "../log.ts";
import type { Secret } from "../secrets/secret.ts";
import type { Transport } from "../transport/types.ts";

export type { Logger } from "../log.ts";

/** Renders templates/<file> (nunjucks) with vars; a Secret when a secret was used. */
export type Renderer = (file: string, vars: Record<string, unknown>) => string | Secret;

/** What a Change's before/after shows in place of a secret value. */
export const SENSITIVE = "(sensitive)";

/** One difference between wanted and current state, described in one line. */
export interface Change {
  /** What differs: "content", "mode", "state", "net0", ... */
  readonly key: string;
  /** One line shared by the plan, the progress line and the JSON report. Never holds a secret value. */
  readonly summary: string;
  /** A unified diff for contents (omitted for sensitive values). */
  readonly diff?: string;
  /** The change needs a reboot/restart to take effect (e.g. Proxmox pending config). */
  readonly pending?: boolean;
  /** The value before and after (the JSON report); a Secret, or `sensitive`, shows as "(sensitive)". */
  readonly before?: unknown;
  readonly after?: unknown;
  /** before/after hold or derive from a secret: never printed. */
  readonly sensitive?: boolean;
}

/** A fact: a command plus a parser that turns its output into a typed value. */
export interface Fact<T> {
  /** Cache key, unique per meaning: "file:/etc/motd", "dpkg:cron,ssh". */
  readonly key: string;
  /** A POSIX sh command (built with `sh`); its stdout and exit code go to `parse`. */
  readonly command: string;
  parse(stdout: string, code: number): T;
  /** Paths on the host whose creation or change can change this fact (e.g. /etc/init.d/NAME for a service). */
  readonly dependsOn?: readonly string[];
}

export interface FactCache {
  /** The value of a fact, from the cache or by running its command. */
  get<T>(fact: Fact<T>): Promise<T>;
  /** Run all facts not yet cached in ONE round trip to the host. */
  prefetch(facts: readonly Fact<unknown>[]): Promise<void>;
  /** Forget cached values (all, or those with these keys): after a change on the host. */
  invalidate(keys?: readonly string[]): void;
}

/** A host as resolved from the inventory. */
export interface HostInfo<V = Readonly<Record<string, unknown>>> {
  readonly name: string;
  /** Groups the host belongs to, directly or through parents; always includes "all". */
  readonly groups: readonly string[];
  /** Merged vars (all < group < host < --extra-vars); typed when the playbook declares host vars. */
  readonly vars: V;
  readonly connection: ConnectionInfo;
}

export interface ConnectionInfo {
  readonly type: "ssh" | "local" | "proxmox";
  readonly address: string;
  readonly port: number;
  readonly user: string;
  /** Private key file; absent: use ssh-agent ($SSH_AUTH_SOCK). */
  readonly keyFile?: string;
  readonly knownHosts: string;
  /** Run commands through `sudo -n` when the login user is not root. */
  readonly become: boolean;
  /** Jump host, resolved to its own connection. */
  readonly bastion?: ConnectionInfo & { readonly name: string };
  readonly connectTimeoutMs: number;
  /** The host is the guest of this VM (inventory vms:): address and host key come from Proxmox. */
  readonly vm?: string;
}

export interface Project {
  /** Repository root: templates/, roles/, playbooks/ are relative to it. */
  readonly root: string;
}

/** Everything a resource may touch while reading or applying on one host. */
export interface HostCtx {
  readonly host: HostInfo;
  readonly transport: Transport;
  readonly facts: FactCache;
  readonly log: Logger;
  readonly project: Project;
  /** Aborted on SIGINT/SIGTERM: long waits must give up. */
  readonly signal: AbortSignal;
  /** Per-run services (Proxmox client, ...) keyed by name, created lazily and shared by all hosts. */
  service<T>(name: string, make: () => Promise<T>): Promise<T>;
}

export interface Resource<Want = unknown, Have = unknown> {
  /** Unique on a host: "file:/etc/motd", "pve:vm/120". */
  readonly id: string;
  readonly want: Want;
  /** Handlers to run (once, at the end of the play) when this resource changed. */
  readonly notify?: readonly string[];
  readonly tags?: readonly string[];
  /** Later steps do not depend on this one: its failure is reported, and the host goes on with them. */
  readonly independent?: boolean;
  /** Paths apply() may create or change ("/dir/" covers what is under it): later facts that depend on them are known only after apply. */
  writes?(): readonly string[];
  /** Facts read() will ask for, so the engine can fetch every resource's facts in one round trip. */
  facts?(): readonly Fact<unknown>[];
  /** Current state. No side effects. */
  read(ctx: HostCtx): Promise<Have>;
  /** Pure. [] means nothing to do. */
  diff(want: Want, have: Have): Change[];
  /** The only side effects. Called only with a non-empty diff. */
  apply(ctx: HostCtx, changes: readonly Change[], have: Have): Promise<void>;
  /** Why nothing needs doing (recorded for no-ops). */
  ok?(have: Have): string;
  /** Something worth showing although it is no change (e.g. pending upgrades): printed by plan and apply without -v. */
  note?(have: Have): string | undefined;
  /** Merge a following resource of the same kind into this one (e.g. one apt call per host). */
  merge?(next: Resource): Resource | undefined;
}

/** An action run once at the end of a play when notified (restart a service, reload a stack). */
export interface Handler {
  readonly id: string;
  /** One line for plan/progress: "restart cron". */
  readonly summary: string;
  run(ctx: HostCtx): Promise<void>;
}
