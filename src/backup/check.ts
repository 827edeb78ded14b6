// `lab backup` (the nightly timer): for every target of the policy, collect what
// pgBackRest, PostgreSQL and Proxmox say (one round trip per database host, a few
// API reads per endpoint), judge it against the policy, and with `run` first take
// the backups that are due. A workflow: it reads through the run context's
// transports and API clients and changes nothing unless asked to run backups.
import { dirname } from "node:path";
import { overdueDrills } from "../drill/history.ts";
import { UnreachableError, errorMessage } from "../errors.ts";
import type { Inventory } from "../inventory/inventory.ts";
import type { PveApi } from "../proxmox/resources/api.ts";
import { listVms, isTemplate } from "../proxmox/resources/find.ts";
import { sh } from "../sh.ts";
import type { ExecResult } from "../transport/types.ts";
import { longestGap, parseCalendarEvent } from "./calendar.ts";
import { parseCollected, pgCollectScript } from "./pg-collect.ts";
import { pgStatus, type PgStatus } from "./pg-status.ts";
import { cronLongestGap } from "./policy-check.ts";
import { vmJobIds, type BackupPolicy, type PgPolicy, type VmPolicy } from "./policy.ts";
import { backupReport, type BackupReport } from "./report.ts";
import { vmStatus, type VmBackup, type VmStatus } from "./vm-status.ts";

/** What the backup workflow needs from the run context. */
export interface BackupEnv {
  readonly inventory: Pick<Inventory, "hosts" | "lab">;
  readonly policy: BackupPolicy;
  now(): Date;
  /** A shell command on an inventory host, through its transport (strict host keys, become). */
  exec(host: string, command: string, opts?: { timeoutMs?: number }): Promise<ExecResult>;
  /** The Proxmox API of an inventory endpoint (pinned TLS, token). */
  pve(endpoint: string): Promise<PveApi>;
  /** Snapshot times per vmid in a PBS datastore (the offsite copy), when the lab has a PBS endpoint for it. */
  offsiteSnapshots?(target: VmPolicy): Promise<Record<number, number[]> | undefined>;
  /** Run the target's offsite sync job now and wait for it (`--run`, when the offsite copy lacks a VM's newest backup). */
  runOffsiteSync?(target: VmPolicy): Promise<void>;
  progress?(line: string): void;
}

export interface BackupOptions {
  /** Only these targets (names from the policy). */
  readonly targets?: readonly string[];
  /** Take the backups that are due before checking. */
  readonly run?: boolean;
  /** Only targets of these kinds (default both). */
  readonly kinds?: readonly ("postgres" | "vm")[];
}

/** Bound of the whole database-host script; `pgbackrest check` inside waits at most CHECK_ARCHIVE_TIMEOUT_SEC. */
const COLLECT_TIMEOUT_MS = 60_000;
const BACKUP_TIMEOUT_MS = 6 * 3600_000;

/** Full and differential runs together: the newest backup of either type counts. */
export const pgScheduleGap = (p: PgPolicy, now: Date): number =>
  cronLongestGap([p.schedule.full, ...(p.schedule.diff ? [p.schedule.diff] : [])], p.timezone, now);

export function vmScheduleGap(p: VmPolicy, now: Date): number {
  return longestGap(parseCalendarEvent(p.schedule), p.timezone, now);
}

export async function checkBackups(env: BackupEnv, opts: BackupOptions = {}): Promise<BackupReport> {
  const selected = (t: { name: string; kind: string }) =>
    (!opts.targets?.length || opts.targets.includes(t.name)) && (!opts.kinds || opts.kinds.includes(t.kind as "vm"));
  const now = env.now();
  const pg = env.policy.postgres.filter(selected);
  const vms = env.policy.vms.filter(selected);
  const results = await Promise.all([
    ...pg.map((t) => checkPg(env, t, now, opts.run ?? false)),
    ...vms.map((t) => checkVms(env, t, now, opts.run ?? false)),
  ]);
  // Restore drills (backups/reports/ next to the policy) older than drill_every: a warning, not a breach.
  const drills = env.policy.file ? await overdueDrills(dirname(dirname(env.policy.file)), [...pg, ...vms], now) : [];
  return backupReport(results, env.now(), drills);
}

async function checkPg(env: BackupEnv, p: PgPolicy, now: Date, run: boolean): Promise<PgStatus> {
  const gap = pgScheduleGap(p, now);
  try {
    if (run) await runPgDue(env, p, now, gap);
    env.progress?.(`${p.name}: reading pgBackRest and PostgreSQL on ${p.host}`);
    const r = await env.exec(p.host, pgCollectScript(p, true), { timeoutMs: COLLECT_TIMEOUT_MS });
    return pgStatus(p, parseCollected(p, r), env.now(), gap);
  } catch (e) {
    return pgStatus(
      p,
      { info: undefined, archiver: undefined, listings: {}, unreachable: unreachableCause(p.host, e) },
      env.now(),
      gap,
    );
  }
}

/** Take a backup in every repository whose newest one is older than its schedule allows (full when there is none). */
async function runPgDue(env: BackupEnv, p: PgPolicy, now: Date, gap: number): Promise<void> {
  const before = pgStatus(
    p,
    parseCollected(p, await env.exec(p.host, pgCollectScript(p, false), { timeoutMs: COLLECT_TIMEOUT_MS })),
    now,
    gap,
  );
  for (const repo of before.repos) {
    if (repo.lastBackup && repo.ageSec !== undefined && repo.ageSec <= gap) continue;
    const type = repo.lastBackup && p.schedule.diff ? "diff" : "full";
    env.progress?.(`${p.name}: running a ${type} backup into ${repo.repo} (repo${repo.index})`);
    // A repository host's repository is backed up from that host (pgBackRest refuses it elsewhere).
    const r2 = p.repositories.find((x) => x.index === repo.index)!;
    const cmd = sh`runuser -u ${r2.user} -- pgbackrest ${`--stanza=${p.stanza}`} ${`--repo=${repo.index}`} ${`--type=${type}`} backup`;
    const r = await env.exec(r2.host ?? p.host, cmd, { timeoutMs: BACKUP_TIMEOUT_MS });
    if (r.code !== 0)
      env.progress?.(
        `${p.name}: the ${type} backup into ${repo.repo} FAILED (exit ${r.code}): ${(r.stderr || r.stdout).trim().split("\n").pop() ?? ""}`,
      );
  }
}

async function checkVms(env: BackupEnv, p: VmPolicy, now: Date, run: boolean): Promise<VmStatus> {
  const gap = vmScheduleGap(p, now);
  const names = p.vms;
  try {
    const api = await env.pve(p.endpoint);
    const node = env.inventory.lab.proxmox[p.endpoint]!.node;
    // Names as of now, not /cluster/resources' status cycle (a VM made seconds ago is found).
    const found = (await listVms(api, { current: true })).filter((v) => !isTemplate(v));
    const vms = names.map((name) => {
      const vmid = found.find((v) => v.name === name)?.vmid;
      return vmid === undefined ? { name } : { name, vmid };
    });
    // Backups without a vmid or ctime (another tool's files) are not any VM's.
    const list = async (): Promise<VmBackup[]> =>
      (
        await api.get("/nodes/{node}/storage/{storage}/content", { node, storage: p.storage, content: "backup" })
      ).flatMap((b) =>
        b.vmid !== undefined && b.ctime !== undefined
          ? [
              {
                vmid: b.vmid,
                ctime: b.ctime,
                size: b.size,
                ...(b.verification ? { verification: b.verification } : {}),
                ...(b.protected !== undefined ? { protected: b.protected } : {}),
              },
            ]
          : [],
      );
    if (run) {
      const local = await list();
      const due = vms.filter(
        (v) => v.vmid !== undefined && !local.some((b) => b.vmid === v.vmid && now.getTime() / 1000 - b.ctime <= gap),
      );
      // vzdump backs up the guests of the node it runs on: one run per node of a cluster (ADR 0017).
      const nodeOf = (vmid: number | undefined) => found.find((v) => v.vmid === vmid)?.node ?? node;
      for (const at of new Set(due.map((v) => nodeOf(v.vmid)))) {
        const here = due.filter((v) => nodeOf(v.vmid) === at);
        env.progress?.(`${p.name}: running vzdump of ${here.map((v) => v.name).join(", ")} into ${p.storage}`);
        const upid = await api.post("/nodes/{node}/vzdump", {
          node: at,
          vmid: here.map((v) => v.vmid).join(","),
          storage: p.storage,
          mode: p.mode,
        });
        await api.wait(upid, `vzdump of ${here.map((v) => v.name).join(", ")}`);
      }
    }
    const local = await list();
    let offsite = p.offsite && env.offsiteSnapshots ? await env.offsiteSnapshots(p) : undefined;
    // The offsite copy is due when it lacks a VM's newest backup: the sync job runs now, not at its schedule.
    const newest = (vmid: number) => Math.max(0, ...local.filter((b) => b.vmid === vmid).map((b) => b.ctime));
    const behind = vms.filter(
      (v) => v.vmid !== undefined && newest(v.vmid) > 0 && !(offsite?.[v.vmid] ?? []).includes(newest(v.vmid)),
    );
    if (run && p.offsite && offsite && behind.length && env.runOffsiteSync) {
      env.progress?.(
        `${p.name}: running the PBS sync job ${vmJobIds(p.name).offsiteSync} (offsite copy of ${behind.map((v) => v.name).join(", ")})`,
      );
      await env.runOffsiteSync(p);
      offsite = await env.offsiteSnapshots!(p);
    }
    return vmStatus(p, { vms, local, ...(offsite ? { offsite } : {}) }, env.now(), gap);
  } catch (e) {
    return vmStatus(
      p,
      { vms: names.map((name) => ({ name })), local: undefined, unreachable: unreachableCause(p.endpoint, e) },
      env.now(),
      gap,
    );
  }
}

const unreachableCause = (where: string, e: unknown) =>
  e instanceof UnreachableError ? `${where} unreachable: ${e.message}` : `${where}: ${errorMessage(e)}`;
