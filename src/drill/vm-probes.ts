// The probes of a restored VM, each retried until it passes or its timeout ends
// (a restored guest's services take a moment after boot): a command over SSH in
// the guest, an HTTP health URL fetched by lab, or a Compose stack whose
// services are all healthy (with a healthcheck) or running (without).
import { parseDuration } from "../backup/duration.ts";
import { errorMessage } from "../errors.ts";
import { containersCommand, parseContainers, readiness } from "../resources/compose/containers.ts";
import type { Transport } from "../transport/types.ts";
import type { CheckResult } from "./checks.ts";
import { sleep } from "./env.ts";
import type { VmProbe } from "./model.ts";

export const DEFAULT_PROBE_TIMEOUT_SEC = 60;
const HTTP_TIMEOUT_MS = 10_000;
const RETRY_MS = 1000;

export interface ProbeEnv {
  readonly signal: AbortSignal;
  /** The restored guest's address (agent-reported). */
  readonly address: string;
  /** The SSH session into the restored guest (opened on first use). */
  guest(): Promise<Transport>;
}

type Attempt = { ok: boolean; detail: string };
const lastLines = (text: string, n = 3) => text.trim().split("\n").filter(Boolean).slice(-n).join(" | ");

async function sshAttempt(env: ProbeEnv, p: Extract<VmProbe, { ssh: string }>): Promise<Attempt> {
  const r = await (await env.guest()).exec(p.ssh, { timeoutMs: 60_000 });
  const out = r.stdout.replace(/\n$/, "");
  if (r.code !== 0) return { ok: false, detail: `exit ${r.code}: ${lastLines(r.stderr || r.stdout) || "no output"}` };
  if (p.expect !== undefined && out !== p.expect)
    return { ok: false, detail: `printed ${JSON.stringify(lastLines(out, 5))}, expected ${JSON.stringify(p.expect)}` };
  return { ok: true, detail: p.expect !== undefined ? `printed ${JSON.stringify(out)}` : "exit 0" };
}

async function httpAttempt(env: ProbeEnv, p: Extract<VmProbe, { http: string }>): Promise<Attempt> {
  const url = p.http.replaceAll("{address}", env.address);
  const want = p.status ?? 200;
  const res = await fetch(url, {
    redirect: "manual",
    signal: AbortSignal.any([env.signal, AbortSignal.timeout(HTTP_TIMEOUT_MS)]),
  });
  const body = await res.text();
  if (res.status !== want) return { ok: false, detail: `${url}: HTTP ${res.status}, expected ${want}` };
  if (p.expect !== undefined && !body.includes(p.expect))
    return { ok: false, detail: `${url}: HTTP ${res.status} but the body lacks ${JSON.stringify(p.expect)}` };
  return { ok: true, detail: `${url}: HTTP ${res.status}` };
}

async function composeAttempt(env: ProbeEnv, p: Extract<VmProbe, { compose: string }>): Promise<Attempt> {
  const r = await (await env.guest()).exec(containersCommand(p.compose), { timeoutMs: 60_000 });
  if (r.code !== 0)
    return { ok: false, detail: `the Docker engine did not answer (exit ${r.code}): ${lastLines(r.stderr)}` };
  const all = parseContainers(r.stdout);
  const services = p.services ?? [...new Set(all.map((c) => c.service))];
  if (!services.length) return { ok: false, detail: `no containers of Compose project ${p.compose}` };
  const bad: string[] = [];
  for (const svc of services) {
    const cs = all.filter((c) => c.service === svc);
    if (!cs.length) bad.push(`${svc}: no container`);
    for (const c of cs) {
      const s = readiness(c);
      if (!s.ready) bad.push(`${svc}: ${s.what}`);
    }
  }
  return bad.length
    ? { ok: false, detail: bad.join("; ") }
    : { ok: true, detail: `${services.length} service(s) healthy or running` };
}

const attempt = (env: ProbeEnv, p: VmProbe): Promise<Attempt> =>
  "ssh" in p ? sshAttempt(env, p) : "http" in p ? httpAttempt(env, p) : composeAttempt(env, p);

export const probeKind = (p: VmProbe): "ssh" | "http" | "compose" =>
  "ssh" in p ? "ssh" : "http" in p ? "http" : "compose";

/** Run one probe until it passes or its timeout ends; the last attempt's result. An interrupt propagates. */
export async function runProbe(env: ProbeEnv, p: VmProbe): Promise<CheckResult> {
  const name = `${probeKind(p)}: ${p.name}`;
  const until = Date.now() + (p.timeout ? parseDuration(p.timeout)! : DEFAULT_PROBE_TIMEOUT_SEC) * 1000;
  for (;;) {
    let a: Attempt;
    try {
      a = await attempt(env, p);
    } catch (e) {
      if (env.signal.aborted) throw e;
      a = { ok: false, detail: errorMessage(e) };
    }
    if (a.ok || Date.now() + RETRY_MS > until) return { name, ok: a.ok, detail: a.detail };
    await sleep(RETRY_MS, env.signal);
  }
}
