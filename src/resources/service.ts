// service: started/stopped and enabled at boot, through systemd where the host
// runs it, else through /etc/init.d (containers, minimal hosts). A host with
// neither gets a clear error, never a silent no-op.
import type { Change, Fact, Handler, HostCtx, Resource } from "../engine/types.ts";
import { ExitCode, LabError, badInput } from "../errors.ts";
import { sh } from "../sh.ts";
import { Type, type Static } from "@sinclair/typebox";
import { checkOptions, closed, oneOf, type ResourceOptions } from "./options.ts";
import { checkTimeout } from "../transport/timeouts.ts";
import { run } from "./run.ts";
import { withFact } from "./with-fact.ts";

export const ServiceWant = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    state: Type.Optional(oneOf(["started", "stopped"])),
    enabled: Type.Optional(Type.Boolean()),
    /** Stop a start/stop/restart and fail the host after this many seconds (default 300). */
    timeout: Type.Optional(
      Type.Unsafe<number>({ description: "seconds (checked by checkTimeout, with its own message)" }),
    ),
  },
  closed,
);
export type ServiceWant = Static<typeof ServiceWant>;

export interface ServiceState {
  manager: "systemd" | "sysv" | "none";
  active: boolean;
  enabled: boolean;
}

// Never starting with "-": systemctl and update-rc.d would take it for an option.
const NAME = /^[A-Za-z0-9@_.:][A-Za-z0-9@_.:-]*$/;

export function serviceFact(name: string): Fact<ServiceState> {
  return {
    key: `service:${name}`,
    command: sh`n=${name}
if [ -d /run/systemd/system ]; then echo systemd; systemctl is-active --quiet "$n" && echo active || echo inactive; systemctl is-enabled --quiet "$n" 2>/dev/null && echo enabled || echo disabled
elif [ -x "/etc/init.d/$n" ]; then echo sysv; "/etc/init.d/$n" status >/dev/null 2>&1 && echo active || echo inactive; ls /etc/rc2.d/S??"$n" >/dev/null 2>&1 && echo enabled || echo disabled
else echo none; fi`,
    // Written by an earlier step (an init script, a unit) or shipped by a package an earlier step installs.
    dependsOn: [
      `/etc/init.d/${name}`,
      `/etc/systemd/system/${name}.service`,
      `/lib/systemd/system/${name}.service`,
      `/usr/lib/systemd/system/${name}.service`,
    ],
    parse: (out) => {
      const [manager = "none", active, enabled] = out.trim().split("\n");
      return {
        manager: manager as ServiceState["manager"],
        active: active === "active",
        enabled: enabled === "enabled",
      };
    },
  };
}

function control(
  state: ServiceState,
  name: string,
  action: "start" | "stop" | "restart" | "enable" | "disable",
): string {
  if (state.manager === "systemd") return sh`systemctl ${action} ${name}`;
  if (action === "enable") return sh`update-rc.d ${name} defaults && update-rc.d ${name} enable`;
  if (action === "disable") return sh`update-rc.d ${name} disable`;
  // The script's output goes to a file, not our channel: start-stop-daemon children would keep it open.
  // A failing script fails the step with that output; after start/restart the daemon may write its
  // pidfile after the script returns: wait (5 s at most) until status agrees (the re-read checks it).
  const script = sh`/etc/init.d/${name}`;
  const wait =
    action === "stop"
      ? ""
      : `
i=0; while ! ${script} status >/dev/null 2>&1 && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; true`;
  return `o=$(mktemp) || exit 1
${script} ${action} </dev/null >"$o" 2>&1; rc=$?
if [ $rc -ne 0 ]; then cat "$o" >&2; rm -f "$o"; exit $rc; fi
rm -f "$o"${wait}`;
}

function checkServiceName(name: string): void {
  if (!NAME.test(name))
    throw badInput(
      `invalid service name ${JSON.stringify(name)}`,
      {},
      "use letters, digits and @ _ . : - (not starting with -)",
    );
}

const noManager = (host: string, name: string) =>
  new LabError(
    `service ${name}: this host has neither systemd nor /etc/init.d/${name}`,
    ExitCode.failed,
    { host },
    "install the package that provides the service, or manage it with a command resource",
  );

export function service(want: ServiceWant, opts: ResourceOptions = {}): Resource<ServiceWant, ServiceState> {
  checkOptions("service", ServiceWant, want, opts);
  checkServiceName(want.name);
  checkTimeout(`service ${want.name}`, want.timeout);
  const fact = serviceFact(want.name);
  return withFact(fact, {
    id: `service:${want.name}`,
    want,
    ...opts,
    diff: serviceDiff,
    async apply(ctx, changes, have) {
      if (have.manager === "none") throw noManager(ctx.host.name, want.name);
      for (const c of changes)
        await run(ctx, control(have, want.name, c.key as "start"), `${c.key} ${want.name}`, {
          kind: "service",
          timeout: want.timeout,
        });
      ctx.facts.invalidate([fact.key]);
    },
    ok: (have) => `${have.active ? "running" : "stopped"}, ${have.enabled ? "enabled" : "disabled"} (${have.manager})`,
  });
}

export function serviceDiff(want: ServiceWant, have: ServiceState): Change[] {
  // Not a change to plan: apply could not make it (an earlier step that writes the script makes the plan "known after apply").
  if (have.manager === "none")
    throw new LabError(
      `service ${want.name}: this host has neither systemd nor /etc/init.d/${want.name}`,
      ExitCode.failed,
      {},
      "install the package that provides the service, or manage it with a command resource",
    );
  const out: Change[] = [];
  if (want.enabled === true && !have.enabled)
    out.push({ key: "enable", summary: `enable ${want.name} at boot`, before: false, after: true });
  if (want.enabled === false && have.enabled)
    out.push({ key: "disable", summary: `disable ${want.name} at boot`, before: true, after: false });
  if (want.state === "started" && !have.active)
    out.push({ key: "start", summary: `start ${want.name}`, before: "stopped", after: "started" });
  if (want.state === "stopped" && have.active)
    out.push({ key: "stop", summary: `stop ${want.name}`, before: "started", after: "stopped" });
  return out;
}

/** Handler: restart a service (once per play, when notified). */
export function restartService(name: string, id = `restart ${name}`): Handler {
  checkServiceName(name);
  return {
    id,
    summary: `restart ${name}`,
    async run(ctx: HostCtx) {
      const state = await ctx.facts.get(serviceFact(name));
      if (state.manager === "none") throw noManager(ctx.host.name, name);
      await run(ctx, control(state, name, "restart"), `restart ${name}`, { kind: "service" });
      ctx.facts.invalidate([`service:${name}`]);
    },
  };
}
