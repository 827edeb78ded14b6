// What `lab plan` asks of the backup policy before anything is contacted: every
// stateful VM and database is covered (exit 2 otherwise), every schedule parses
// (with its position), and a schedule that cannot meet its RPO is a warning.
import { Cron } from "croner";
import { badInput, type LabError } from "../errors.ts";
import type { Inventory } from "../inventory/inventory.ts";
import { CalendarError, longestGap, parseCalendarEvent } from "./calendar.ts";
import { formatDuration } from "./duration.ts";
import type { BackupPolicy } from "./policy.ts";

export interface PolicyFindings {
  /** Bad input: the plan must stop (exit 2). */
  errors: LabError[];
  warnings: string[];
}

/** The longest gap between runs of any of these cron expressions, over `days` days (Infinity: at most one run). */
export function cronLongestGap(exprs: readonly string[], timezone: string, from: Date, days = 35): number {
  const end = from.getTime() + days * 86_400_000;
  const times = new Set<number>();
  for (const e of exprs) {
    const c = new Cron(e, { timezone });
    for (let t = c.nextRun(new Date(from.getTime() - 1)); t && t.getTime() < end; t = c.nextRun(t))
      times.add(t.getTime());
  }
  const runs = [...times].sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < runs.length; i++) gap = Math.max(gap, (runs[i]! - runs[i - 1]!) / 1000);
  return runs.length < 2 ? Infinity : gap;
}

export function checkPolicy(
  policy: BackupPolicy,
  inv: Pick<Inventory, "hosts" | "lab">,
  now = new Date(),
): PolicyFindings {
  const errors: LabError[] = [];
  const warnings: string[] = [];
  const pos = (path: (string | number)[]) => policy.where(path) ?? {};

  for (const t of policy.postgres) {
    for (const [key, expr] of Object.entries(t.schedule)) {
      try {
        new Cron(expr, { timezone: t.timezone });
      } catch (e) {
        errors.push(
          badInput(
            `postgres target ${t.name}: schedule.${key} "${expr}" is not a cron expression: ${(e as Error).message}`,
            pos(["postgres", t.name, "schedule", key]),
            'use five cron fields, e.g. "0 1 * * 0"',
          ),
        );
      }
    }
    if (t.rpoSec < 10)
      warnings.push(
        `postgres target ${t.name}: rpo ${formatDuration(t.rpoSec)} makes PostgreSQL switch a 16 MB WAL segment every ${formatDuration(t.rpoSec)} even when idle; 60s is the practical floor`,
      );
    if (!t.repositories.some((r) => r.host !== undefined))
      warnings.push(
        `postgres target ${t.name}: every repository is on ${t.host} itself: losing that host loses the backups (add a repository on another host)`,
      );
    for (const r of t.repositories) {
      if (r.host !== undefined && !r.encryptionKey)
        warnings.push(
          `postgres target ${t.name}: repository ${r.name} on ${r.host} is not encrypted (set encryption_key)`,
        );
    }
    if (t.acceptWalLoss)
      warnings.push(
        `postgres target ${t.name}: accept_wal_loss is set: pgBackRest DROPS WAL when its queue is full, and point-in-time recovery past the gap is then impossible`,
      );
  }

  for (const t of policy.vms) {
    let gap: number | undefined;
    try {
      gap = longestGap(parseCalendarEvent(t.schedule), t.timezone, now);
    } catch (e) {
      if (!(e instanceof CalendarError)) throw e;
      errors.push(
        badInput(
          `VM target ${t.name}: schedule "${t.schedule}" is not a Proxmox calendar event: ${e.message}`,
          pos(["vms", t.name, "schedule"]),
          'e.g. "*-*-* 02:30", "mon..fri 02:30" or "*:0/15"',
        ),
      );
    }
    if (gap !== undefined && gap > t.rpoSec) {
      warnings.push(
        `VM target ${t.name}: schedule "${t.schedule}" leaves up to ${gap === Infinity ? "more than 35d" : formatDuration(gap)} between backups, longer than its rpo ${formatDuration(t.rpoSec)}`,
      );
    }
    if (!t.offsite)
      warnings.push(`VM target ${t.name}: no offsite copy (offsite.datastore): one PBS holds every backup`);
  }

  // Everything the inventory marks stateful must be covered by some target.
  const coveredVms = new Set(policy.vms.flatMap((t) => t.vms));
  for (const [name, vm] of Object.entries(inv.lab.vms)) {
    if (vm.stateful && !coveredVms.has(name)) {
      errors.push(
        badInput(
          `VM ${name} is marked stateful but no backup policy covers it`,
          {},
          `add it to a target under vms: in ${policy.file ?? "backups/policy.yaml"} (select: { vms: [${name}] } or a tag it has)`,
        ),
      );
    }
  }
  const pgHosts = new Set(policy.postgres.map((t) => t.host));
  for (const host of inv.hosts.values()) {
    // Hosts say it with a var (host vars are the project's to declare): stateful: true.
    if (host.vars.stateful !== true) continue;
    const vm = host.connection.vm;
    if (pgHosts.has(host.name) || (vm !== undefined && coveredVms.has(vm))) continue;
    errors.push(
      badInput(
        `host ${host.name} is marked stateful but no backup policy covers it`,
        {},
        `add a postgres: target with host: ${host.name}${vm ? `, or cover its VM ${vm} under vms:` : ""} in ${policy.file ?? "backups/policy.yaml"}`,
      ),
    );
  }
  return { errors, warnings };
}
