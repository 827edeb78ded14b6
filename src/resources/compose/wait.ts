// After `up -d`: wait until every service is healthy (with a healthcheck) or
// running (without). A container that turns unhealthy, exits or restarts fails
// the wait AT ONCE, with the tail of its health log and container log. An
// interrupt stops the wait; what was still starting is not a failure.
import type { HostCtx } from "../../engine/types.ts";
import { redact } from "../../secrets/secret.ts";
import { sh } from "../../sh.ts";
import { containersCommand, parseContainers, readiness, type ContainerState } from "./containers.ts";
import { timeoutMs } from "../../transport/timeouts.ts";

export interface WaitOptions {
  project: string;
  services: readonly string[];
  timeoutMs: number;
  pollMs: number;
}

/** `interrupted`: the run was interrupted while services were still starting; nothing was seen to fail. */
export type WaitResult =
  { ok: true; states: ContainerState[]; ms: number } | { ok: false; reason: string; ms: number; interrupted?: true };

export async function waitReady(ctx: HostCtx, o: WaitOptions): Promise<WaitResult> {
  const t0 = Date.now();
  for (;;) {
    const r = await ctx.transport.exec(containersCommand(o.project), { timeoutMs: timeoutMs("compose") });
    const ms = Date.now() - t0;
    if (r.code !== 0)
      return {
        ok: false,
        reason: `the Docker engine did not answer (docker ps/inspect exit ${r.code}): ${redact(r.stderr.trim().slice(-300))}`,
        ms,
      };
    const all = parseContainers(r.stdout);
    const failed: ContainerState[] = [];
    const pending: string[] = [];
    for (const svc of o.services) {
      const cs = all.filter((c) => c.service === svc);
      if (cs.length === 0) pending.push(`${svc}: no container`);
      for (const c of cs) {
        const s = readiness(c);
        if (!s.ready && s.failed) failed.push(c);
        else if (!s.ready) pending.push(`${svc}: ${s.what}`);
      }
    }
    if (failed.length) return { ok: false, reason: await explain(ctx, failed, ms), ms };
    if (pending.length === 0) return { ok: true, states: all.filter((c) => o.services.includes(c.service)), ms };
    if (ctx.signal.aborted)
      return { ok: false, reason: `interrupted while waiting (${pending.join("; ")})`, ms, interrupted: true };
    if (ms >= o.timeoutMs) {
      const stuck = all.filter((c) => o.services.includes(c.service) && !readiness(c).ready);
      return {
        ok: false,
        reason: `not ready within ${Math.round(o.timeoutMs / 1000)} s (${pending.join("; ")})${stuck.length ? `\n${await details(ctx, stuck)}` : ""}`,
        ms,
      };
    }
    await sleep(Math.min(o.pollMs, Math.max(0, o.timeoutMs - ms)), ctx.signal);
  }
}

async function explain(ctx: HostCtx, failed: ContainerState[], ms: number): Promise<string> {
  const what = failed.map((c) => `service ${c.service} is ${readiness(c).what}`).join("; ");
  return `${what} (after ${Math.round(ms / 1000)} s)\n${await details(ctx, failed)}`;
}

/** Health log and container log tails of these containers (one round trip). */
async function details(ctx: HostCtx, cs: ContainerState[]): Promise<string> {
  const cmd = cs.map((c) => sh`echo ${`@@logs ${c.id}`}; docker logs --tail 15 ${c.id} 2>&1`).join("\n");
  const r = await ctx.transport.exec(cmd, { timeoutMs: timeoutMs("compose") });
  const logs = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const line of r.stdout.split("\n")) {
    const m = /^@@logs (\S+)$/.exec(line);
    if (m) logs.set(m[1]!, (cur = []));
    else cur?.push(line);
  }
  const indent = (lines: string[]) => lines.map((l) => `      ${l}`).join("\n");
  return cs
    .map((c) => {
      const health = c.healthLog.slice(-3).flatMap((o) => o.split("\n"));
      const log = (logs.get(c.id) ?? []).filter((l, i, a) => l !== "" || i < a.length - 1).slice(-15);
      return [
        `  ${c.service} (${c.name}, ${readiness(c).what}):`,
        health.length ? `    last health check output:\n${indent(health)}` : "",
        `    last container log lines:\n${log.length ? indent(log) : "      (none)"}`,
      ]
        .filter(Boolean)
        .join("\n");
    })
    .map(redact)
    .join("\n");
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const stop = () => {
      clearTimeout(t);
      signal.removeEventListener("abort", stop);
      done();
    };
    const t = setTimeout(stop, ms);
    signal.addEventListener("abort", stop, { once: true });
  });
}
