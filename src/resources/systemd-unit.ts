// systemd-unit: a unit file under /etc/systemd/system (or a user manager's
// directory: a SystemdScope), `systemctl daemon-reload` only when a unit file
// changed (nothing else in lab reloads systemd), then enable/start; a started
// unit whose file changed is restarted (a timer then computes its next run from
// the new schedule). Absent: stopped, disabled, its file removed, then reloaded.
import { valueChange } from "./attrs-diff.ts";
import type { Change, Fact, HostCtx, Resource } from "../engine/types.ts";
import { ExitCode, LabError, badInput } from "../errors.ts";
import { raw, sh } from "../sh.ts";
import { fileDiff } from "./file.ts";
import type { ResourceOptions } from "./file.ts";
import { pathFact, type PathState } from "./path-fact.ts";
import { run } from "./run.ts";
import { setAttrs, writeFileAtomic } from "./write-file.ts";

export interface SystemdUnitWant {
  /** Unit name with its suffix: "pgbackrest-full.service", "pgbackrest-full.timer". */
  name: string;
  content: string;
  /** Enabled at boot (`systemctl enable`). Unset: left alone (a service a timer starts). */
  enabled?: boolean;
  /** Running (a service) or waiting (a timer). Unset: left alone. */
  started?: boolean;
  /** absent: stop, disable and remove the unit (default present). */
  state?: "present" | "absent";
}

/** Which systemd manager: the system's (root) or a user's (`systemctl --user`). */
export interface SystemdScope {
  /** Where unit files go. */
  readonly dir: string;
  /** The systemctl of this manager, a shell fragment: "systemctl" or "systemctl --user". */
  readonly systemctl: string;
  /** A sh condition that holds when this manager runs. */
  readonly running: string;
  /** Owner of the unit files (unset: whoever writes them: a user manager's own files). */
  readonly owner?: string;
  readonly group?: string;
  /** A user manager: its units run as that user (no User=). */
  readonly user: boolean;
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

export const systemScope: SystemdScope = {
  dir: unitDir,
  systemctl: "systemctl",
  running: "test -d /run/systemd/system",
  owner: "root",
  group: "root",
  user: false,
};

/** Whether the host runs systemd: what makes a role choose timers over cron. */
export const systemdFact: Fact<boolean> = {
  key: "systemd",
  command: "test -d /run/systemd/system && echo systemd || echo none",
  parse: (out) => out.trim() === "systemd",
};

export function unitStateFact(name: string, scope: SystemdScope = systemScope): Fact<UnitState> {
  const ctl = raw(scope.systemctl);
  return {
    key: scope === systemScope ? `systemd-unit:${name}` : `systemd-unit:${scope.dir}:${name}`,
    command: sh`n=${name}
if ${raw(scope.running)}; then echo systemd; ${ctl} is-enabled --quiet "$n" 2>/dev/null && echo enabled || echo disabled; ${ctl} is-active --quiet "$n" && echo active || echo inactive
else echo none; fi`,
    parse: (out) => {
      const [manager, enabled, active] = out.trim().split("\n");
      return { systemd: manager === "systemd", enabled: enabled === "enabled", active: active === "active" };
    },
  };
}

export function checkUnitName(name: string): void {
  if (!NAME.test(name))
    throw badInput(
      `systemd unit: invalid name ${JSON.stringify(name)}`,
      {},
      'use a unit name with its type, e.g. "backup.service" or "backup.timer"',
    );
}

/** The changes for one unit (file content/mode, then enable, then start; or stop, disable, remove). */
export function unitDiff(want: SystemdUnitWant, have: SystemdUnitState, scope: SystemdScope = systemScope): Change[] {
  const path = `${scope.dir}/${want.name}`;
  if (want.state === "absent") {
    return [
      ...(have.unit.active ? [valueChange("stop", `stop ${want.name}`, "started", "stopped")] : []),
      ...(have.unit.enabled ? [valueChange("disable", `disable ${want.name}`, true, false)] : []),
      ...fileDiff({ path, state: "absent" }, have.file).map((c) => ({
        ...c,
        summary: `${c.summary}, then ${scope.systemctl} daemon-reload`,
      })),
    ];
  }
  const content = fileDiff({ path, content: want.content, mode: "0644", ...ownerOf(scope) }, have.file);
  const out: Change[] = content.map((c) =>
    c.key === "content" ? { ...c, summary: `${c.summary}, then ${scope.systemctl} daemon-reload` } : c,
  );
  if (want.enabled === true && !have.unit.enabled) out.push(valueChange("enable", `enable ${want.name}`, false, true));
  if (want.enabled === false && have.unit.enabled)
    out.push(valueChange("disable", `disable ${want.name}`, true, false));
  const changedFile = content.some((c) => c.key === "content");
  if (want.started === true && !have.unit.active)
    out.push(valueChange("start", `start ${want.name}`, "stopped", "started"));
  else if (want.started === true && changedFile)
    out.push({ key: "restart", summary: `restart ${want.name} (its unit file changed)` });
  if (want.started === false && have.unit.active)
    out.push(valueChange("stop", `stop ${want.name}`, "started", "stopped"));
  return out;
}

const ownerOf = (scope: SystemdScope) => ({
  ...(scope.owner ? { owner: scope.owner } : {}),
  ...(scope.group ? { group: scope.group } : {}),
});

/**
 * Stop and disable the units to remove (their files are still there), write the
 * files whose content changed and remove the others' files, reload systemd once
 * if any file changed, then enable/start each unit.
 */
export async function applyUnits(
  ctx: HostCtx,
  units: { want: SystemdUnitWant; changes: readonly Change[] }[],
  scope: SystemdScope = systemScope,
): Promise<void> {
  const ctl = (verb: string, name: string) =>
    run(ctx, sh`${raw(scope.systemctl)} ${verb} ${name}`, `${scope.systemctl} ${verb} ${name}`);
  const absent = units.filter((u) => u.want.state === "absent");
  const present = units.filter((u) => u.want.state !== "absent");
  for (const { want, changes } of absent)
    for (const c of changes) if (c.key === "stop" || c.key === "disable") await ctl(c.key, want.name);
  let reload = false;
  // A user manager's directory may not exist yet; the system's always does.
  if (scope !== systemScope && present.some((u) => u.changes.some((c) => c.key === "content")))
    await run(ctx, sh`mkdir -p -- ${scope.dir}`, `create ${scope.dir}`);
  for (const { want, changes } of units) {
    const path = `${scope.dir}/${want.name}`;
    if (want.state === "absent" && changes.some((c) => c.key === "state")) {
      await run(ctx, sh`rm -f -- ${path}`, `remove ${path}`);
      reload = true;
    } else if (want.state !== "absent" && changes.some((c) => c.key === "content")) {
      await writeFileAtomic(ctx, path, want.content, { mode: "0644", ...ownerOf(scope) });
      reload = true;
    } else if (changes.some((c) => ["mode", "owner", "group"].includes(c.key))) {
      await setAttrs(ctx, path, { mode: "0644", ...ownerOf(scope) });
    }
  }
  if (reload) await run(ctx, `${scope.systemctl} daemon-reload`, `${scope.systemctl} daemon-reload`);
  for (const { want, changes } of present) {
    for (const c of changes) {
      if (["enable", "disable", "start", "restart", "stop"].includes(c.key)) await ctl(c.key, want.name);
    }
  }
  ctx.facts.invalidate(
    units.flatMap(({ want }) => [`path:${scope.dir}/${want.name}`, unitStateFact(want.name, scope).key]),
  );
}

export const noSystemd = (name: string): LabError =>
  new LabError(
    `systemd unit ${name}: this host does not run systemd`,
    ExitCode.failed,
    {},
    "schedule with a cron entry on hosts without systemd (scheduledJob chooses by itself)",
  );

export function systemdUnit(
  want: SystemdUnitWant,
  opts: ResourceOptions & { scope?: SystemdScope } = {},
): Resource<SystemdUnitWant, SystemdUnitState> {
  checkUnitName(want.name);
  const { scope = systemScope, ...options } = opts;
  const file = pathFact(`${scope.dir}/${want.name}`);
  const unit = unitStateFact(want.name, scope);
  return {
    id: `systemd-unit:${want.name}`,
    want,
    ...options,
    facts: () => [file, unit],
    read: async (ctx) => ({ file: await ctx.facts.get(file), unit: await ctx.facts.get(unit) }),
    diff(w, have) {
      if (!have.unit.systemd) throw noSystemd(w.name);
      return unitDiff(w, have, scope);
    },
    apply: (ctx, changes) => applyUnits(ctx, [{ want, changes }], scope),
    ok: (have) =>
      want.state === "absent"
        ? `${want.name}: absent`
        : `${want.name}: file as wanted, ${have.unit.enabled ? "enabled" : "not enabled"}, ${have.unit.active ? "active" : "inactive"}`,
  };
}

/** Several units as one step: read together, one daemon-reload for all of them (a job's service and timer, a schedule's jobs). */
export function systemdUnits(
  id: string,
  wants: readonly SystemdUnitWant[],
  opts: ResourceOptions & { scope?: SystemdScope } = {},
): Resource<readonly SystemdUnitWant[], SystemdUnitState[]> {
  for (const w of wants) checkUnitName(w.name);
  const { scope = systemScope, ...options } = opts;
  const facts = wants.map((w) => ({ file: pathFact(`${scope.dir}/${w.name}`), unit: unitStateFact(w.name, scope) }));
  const tag =
    (name: string) =>
    (c: Change): Change => ({ ...c, key: `${name}:${c.key}` });
  return {
    id,
    want: wants,
    ...options,
    facts: () => facts.flatMap((f) => [f.file, f.unit]),
    read: (ctx) =>
      Promise.all(facts.map(async (f) => ({ file: await ctx.facts.get(f.file), unit: await ctx.facts.get(f.unit) }))),
    diff(ws, have) {
      return ws.flatMap((w, i) => {
        if (!have[i]!.unit.systemd) throw noSystemd(w.name);
        return unitDiff(w, have[i]!, scope).map(tag(w.name));
      });
    },
    apply: (ctx, changes) =>
      applyUnits(
        ctx,
        wants.map((want) => ({
          want,
          changes: changes
            .filter((c) => c.key.startsWith(`${want.name}:`))
            .map((c) => ({ ...c, key: c.key.slice(want.name.length + 1) })),
        })),
        scope,
      ),
    ok: () => `${wants.length} unit(s) as wanted in ${scope.dir}`,
  };
}
