// systemd-unit: a unit file under /etc/systemd/system, `systemctl daemon-reload`
// only when a unit file changed (nothing else in lab reloads systemd), then
// enable/start; a started unit whose file changed is restarted (a timer then
// computes its next run from the new schedule).
import type { Change, Fact, HostCtx, Resource } from "../engine/types.ts";
import { ExitCode, LabError, badInput } from "../errors.ts";
import { sh } from "../sh.ts";
import { fileDiff } from "./file.ts";
import type { ResourceOptions } from "./file.ts";
import { pathFact, type PathState } from "./path-fact.ts";
import { run } from "./run.ts";
import { writeFileAtomic } from "./write-file.ts";

export interface SystemdUnitWant {
  /** Unit name with its suffix: "pgbackrest-full.service", "pgbackrest-full.timer". */
  name: string;
  content: string;
  /** Enabled at boot (`systemctl enable`). Unset: left alone (a service a timer starts). */
  enabled?: boolean;
  /** Running (a service) or waiting (a timer). Unset: left alone. */
  started?: boolean;
}

export interface UnitState {
  /** The host runs systemd (/run/systemd/system exists). */
  systemd: boolean;
  enabled: boolean;
  active: boolean;
}

export interface SystemdUnitState {
  unit: UnitState;
  file: PathState;
}

const NAME = /^[A-Za-z0-9@_.:-]+\.(service|timer|socket|target|path|mount)$/;
export const unitDir = "/etc/systemd/system";

/** Whether the host runs systemd: what makes a role choose timers over cron. */
export const systemdFact: Fact<boolean> = {
  key: "systemd",
  command: "test -d /run/systemd/system && echo systemd || echo none",
  parse: (out) => out.trim() === "systemd",
};

export function unitStateFact(name: string): Fact<UnitState> {
  return {
    key: `systemd-unit:${name}`,
    command: sh`n=${name}
if [ -d /run/systemd/system ]; then echo systemd; systemctl is-enabled --quiet "$n" 2>/dev/null && echo enabled || echo disabled; systemctl is-active --quiet "$n" && echo active || echo inactive
else echo none; fi`,
    parse: (out) => {
      const [manager, enabled, active] = out.trim().split("\n");
      return { systemd: manager === "systemd", enabled: enabled === "enabled", active: active === "active" };
    },
  };
}

export function checkUnitName(name: string): void {
  if (!NAME.test(name)) throw badInput(`systemd unit: invalid name ${JSON.stringify(name)}`, {}, 'use a unit name with its type, e.g. "backup.service" or "backup.timer"');
}

/** The changes for one unit (file content/mode, then enable, then start). */
export function unitDiff(want: SystemdUnitWant, have: SystemdUnitState): Change[] {
  const path = `${unitDir}/${want.name}`;
  const content = fileDiff({ path, content: want.content, mode: "0644", owner: "root", group: "root" }, have.file);
  const out: Change[] = content.map((c) => (c.key === "content" ? { ...c, summary: `${c.summary}, then systemctl daemon-reload` } : c));
  if (want.enabled === true && !have.unit.enabled) out.push({ key: "enable", summary: `enable ${want.name}` });
  if (want.enabled === false && have.unit.enabled) out.push({ key: "disable", summary: `disable ${want.name}` });
  const changedFile = content.some((c) => c.key === "content");
  if (want.started === true && !have.unit.active) out.push({ key: "start", summary: `start ${want.name}` });
  else if (want.started === true && changedFile) out.push({ key: "restart", summary: `restart ${want.name} (its unit file changed)` });
  if (want.started === false && have.unit.active) out.push({ key: "stop", summary: `stop ${want.name}` });
  return out;
}

/** Write the files whose content changed, reload systemd once if any did, then enable/start each unit. */
export async function applyUnits(ctx: HostCtx, units: { want: SystemdUnitWant; changes: readonly Change[] }[]): Promise<void> {
  let reload = false;
  for (const { want, changes } of units) {
    const path = `${unitDir}/${want.name}`;
    if (changes.some((c) => c.key === "content")) {
      await writeFileAtomic(ctx, path, want.content, { mode: "0644", owner: "root", group: "root" });
      reload = true;
    } else if (changes.some((c) => ["mode", "owner", "group"].includes(c.key))) {
      await run(ctx, sh`chmod 0644 ${path} && chown root:root ${path}`, `set mode/owner of ${path}`);
    }
  }
  if (reload) await run(ctx, "systemctl daemon-reload", "systemctl daemon-reload");
  for (const { want, changes } of units) {
    for (const c of changes) {
      if (["enable", "disable", "start", "restart", "stop"].includes(c.key)) await run(ctx, sh`systemctl ${c.key} ${want.name}`, `systemctl ${c.key} ${want.name}`);
    }
  }
  ctx.facts.invalidate(units.flatMap(({ want }) => [`path:${unitDir}/${want.name}`, `systemd-unit:${want.name}`]));
}

export const noSystemd = (name: string): LabError =>
  new LabError(`systemd unit ${name}: this host does not run systemd`, ExitCode.failed, {}, "schedule with a cron entry on hosts without systemd (scheduledJob chooses by itself)");

export function systemdUnit(want: SystemdUnitWant, opts: ResourceOptions = {}): Resource<SystemdUnitWant, SystemdUnitState> {
  checkUnitName(want.name);
  const file = pathFact(`${unitDir}/${want.name}`);
  const unit = unitStateFact(want.name);
  return {
    id: `systemd-unit:${want.name}`,
    want,
    ...opts,
    facts: () => [file, unit],
    read: async (ctx) => ({ file: await ctx.facts.get(file), unit: await ctx.facts.get(unit) }),
    diff(w, have) {
      if (!have.unit.systemd) throw noSystemd(w.name);
      return unitDiff(w, have);
    },
    apply: (ctx, changes) => applyUnits(ctx, [{ want, changes }]),
    ok: (have) => `${want.name}: file as wanted, ${have.unit.enabled ? "enabled" : "not enabled"}, ${have.unit.active ? "active" : "inactive"}`,
  };
}
