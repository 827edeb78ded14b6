// One VM drill, start to end, per VM of a VM target: production's config read,
// its backups listed, each planned backup restored in ONE qmrestore call to a
// marked scratch VMID (unique=1: new MACs; every NIC overridden onto the drill
// VLAN), every NIC checked on that VLAN before the copy starts, started, the
// guest agent waited for, the probes run, then the copy stopped and destroyed —
// on success, failure and Ctrl-C (through a client that outlives the interrupt).
// Production's config read again: any change fails the drill.
import { formatDuration } from "../backup/duration.ts";
import type { ConnectionInfo } from "../engine/types.ts";
import { errorMessage } from "../errors.ts";
import { isMissing, type PveApi } from "../proxmox/resources/api.ts";
import { agentIpv4, isTemplate, listVms } from "../proxmox/resources/find.ts";
import type { Transport } from "../transport/types.ts";
import type { CheckResult } from "./checks.ts";
import { DrillError, Interrupted, abortable, waitFor } from "./env.ts";
import { rtoFindings } from "./measure.ts";
import type { VmDrillDef, VmDrillVm } from "./vm-definitions.ts";
import {
  drillRunOf,
  isDrillCopy,
  macsOf,
  nicsOffVlan,
  nicsOnVlan,
  planVmRestores,
  scratchMarking,
  scratchVmid,
  type PlannedVmRestore,
  type VmBackupRef,
} from "./vm-plan.ts";
import { runProbe } from "./vm-probes.ts";

export interface VmDrillEnv {
  readonly signal: AbortSignal;
  now(): Date;
  progress(line: string): void;
  /** The endpoint's API for the drill's steps (gives up when interrupted). */
  api(endpoint: string): Promise<PveApi>;
  /** The endpoint's API through a client that outlives an interrupt (bounded by its timeouts): removing copies. */
  cleanupApi(endpoint: string): Promise<PveApi>;
  /** An SSH session into a restored guest at `address`, its host key pinned from the guest agent first (never trusted on first use). */
  openGuest(api: PveApi, node: string, vmid: number, address: string, login: ConnectionInfo): Promise<Transport>;
}

export interface VmPhases {
  /** qmrestore task, NICs checked on the drill VLAN. */
  readonly restoreSec: number;
  readonly startSec: number;
  /** Start until the guest agent reports an address. */
  readonly agentSec: number;
  readonly probesSec: number;
}

export interface VmRestoreOutcome {
  readonly vm: string;
  readonly vmid?: number;
  readonly which: "newest" | "older";
  readonly backup?: string;
  readonly backupAt?: string;
  readonly seed?: number;
  readonly candidates?: number;
  readonly scratchVmid?: number;
  readonly vlan: string;
  readonly address?: string;
  readonly phases?: VmPhases;
  readonly rtoSec?: number;
  /** Newest restores: when the restore began minus the backup's time. */
  readonly rpoSec?: number;
  readonly checks: readonly CheckResult[];
  readonly ok: boolean;
  readonly problems: readonly string[];
}

export interface VmDrillResult {
  readonly target: string;
  readonly kind: "vm";
  readonly endpoint: string;
  readonly ok: boolean;
  readonly rpoSec?: number;
  readonly rpoPolicySec: number;
  readonly rtoSec?: number;
  readonly rtoPolicySec: number;
  /** Whether an older backup was restored too (due per older_every, or forced with --older), and the seed of the pick. */
  readonly older: { readonly restored: boolean; readonly forced: boolean; readonly seed: number };
  readonly restores: readonly VmRestoreOutcome[];
  /** Production VMs whose config changed during the drill (must be none). */
  readonly productionChanged: readonly string[];
  readonly problems: readonly string[];
}

export const rtoOfVm = (p: VmPhases) => p.restoreSec + p.startSec + p.agentSec + p.probesSec;
const secondsSince = (t0: number) => (performance.now() - t0) / 1000;
/** Config as compared before/after (the digest is derived from it). */
const comparable = (c: Record<string, unknown>) =>
  JSON.stringify(
    Object.fromEntries(
      Object.entries(c)
        .filter(([k]) => k !== "digest")
        .sort(([a], [b]) => a.localeCompare(b)),
    ),
  );

/**
 * Stop and destroy every drill copy on the node within the range (of one run, or
 * of any run: the leftovers of crashed drills). Only VMs carrying the drill tag
 * AND the marker are touched. Returns "endpoint/vmid (name)" per removed copy.
 */
export async function removeDrillCopies(
  api: PveApi,
  node: string,
  range: { min: number; max: number },
  run?: string,
): Promise<string[]> {
  const removed: string[] = [];
  for (const v of await listVms(api)) {
    if (v.node !== node || v.vmid < range.min || v.vmid > range.max || isTemplate(v)) continue;
    const r = await removeCopyAt(api, node, v.vmid, run);
    if (r) removed.push(r);
  }
  return removed;
}

/**
 * Destroy the VM at `vmid` if it is a drill copy (of `run`, when given); its
 * "endpoint/vmid (name)" when it was. Looked up by id, not by listing: a copy
 * just made may not be in /cluster/resources yet.
 */
export async function removeCopyAt(api: PveApi, node: string, vmid: number, run?: string): Promise<string | undefined> {
  const cfg = await api.get("/nodes/{node}/qemu/{vmid}/config", { node, vmid }).catch((e: unknown) => {
    if (isMissing(e)) return undefined;
    throw e;
  });
  if (!cfg || !isDrillCopy(cfg.tags, cfg.description)) return undefined;
  if (run !== undefined && drillRunOf(cfg.description) !== run) return undefined;
  await destroyCopy(api, node, vmid);
  return `${api.endpoint}/${vmid} (${cfg.name ?? "?"})`;
}

async function destroyCopy(api: PveApi, node: string, vmid: number): Promise<void> {
  const status = await api.get("/nodes/{node}/qemu/{vmid}/status/current", { node, vmid });
  if (status.status === "running")
    await api.wait(await api.post("/nodes/{node}/qemu/{vmid}/status/stop", { node, vmid }), `stop drill copy ${vmid}`);
  await api.wait(
    await api.delete("/nodes/{node}/qemu/{vmid}", { node, vmid, purge: true }),
    `destroy drill copy ${vmid}`,
  );
}

export async function drillVmTarget(
  env: VmDrillEnv,
  def: VmDrillDef,
  run: string,
  older: { due: boolean; forced: boolean; seed: number },
): Promise<VmDrillResult> {
  const t = def.target;
  const problems: string[] = [];
  const restores: VmRestoreOutcome[] = [];
  const changed: string[] = [];
  for (const vm of def.vms) {
    try {
      const api = await env.api(def.endpoint);
      const prod = (await listVms(api, { current: true })).find(
        (v) => v.name === vm.name && v.node === def.node && !isTemplate(v),
      );
      if (!prod) {
        problems.push(
          `${t.name}: VM ${vm.name} does not exist on ${def.endpoint}/${def.node}: nothing to drill (run lab apply)`,
        );
        continue;
      }
      const before = await api.get("/nodes/{node}/qemu/{vmid}/config", { node: def.node, vmid: prod.vmid });
      const listed = await api.get("/nodes/{node}/storage/{storage}/content", {
        node: def.node,
        storage: t.storage,
        content: "backup",
        vmid: prod.vmid,
      });
      const backups: VmBackupRef[] = listed.flatMap((b) =>
        b.vmid === prod.vmid && b.ctime !== undefined ? [{ volid: b.volid, ctime: b.ctime }] : [],
      );
      const planned = planVmRestores(backups, older.due, older.seed);
      if (!planned.length)
        problems.push(
          `${t.name}: VM ${vm.name} (${prod.vmid}) has no backup in ${t.storage} to restore: run \`lab backup --run\``,
        );
      for (const p of planned) restores.push(await oneVmRestore(env, api, def, vm, prod.vmid, before, p, run));
      const after = await api.get("/nodes/{node}/qemu/{vmid}/config", { node: def.node, vmid: prod.vmid });
      if (comparable(after) !== comparable(before)) {
        changed.push(vm.name);
        problems.push(
          `${t.name}: production VM ${vm.name} (${prod.vmid})'s config changed during the drill: a drill must never touch production`,
        );
      }
    } catch (e) {
      if (e instanceof Interrupted || env.signal.aborted) throw e instanceof Interrupted ? e : new Interrupted();
      problems.push(`${t.name}: ${vm.name}: ${errorMessage(e)}`);
    }
  }
  problems.push(...restores.flatMap((r) => r.problems.map((x) => `${t.name}: ${r.vm} (${r.which} backup): ${x}`)));
  const newest = restores.filter((r) => r.which === "newest" && r.rpoSec !== undefined);
  const rpoSec = newest.length ? Math.max(...newest.map((r) => r.rpoSec!)) : undefined;
  if (rpoSec !== undefined && rpoSec > t.rpoSec)
    problems.push(
      `${t.name}: RPO ${formatDuration(rpoSec)} exceeds the policy's ${formatDuration(t.rpoSec)}: the newest backup restored is that old (check the backup job's schedule)`,
    );
  const rtos = restores.map((r) => r.rtoSec).filter((x) => x !== undefined);
  const rtoSec = rtos.length && rtos.length === restores.length ? Math.max(...rtos) : undefined;
  if (rtoSec !== undefined) problems.push(...rtoFindings(rtoSec, t.rtoSec).map((x) => `${t.name}: ${x}`));
  if (!restores.length && !problems.length) problems.push(`${t.name}: nothing was restored`);
  return {
    target: t.name,
    kind: "vm",
    endpoint: def.endpoint,
    ok: problems.length === 0,
    ...(rpoSec !== undefined ? { rpoSec } : {}),
    rpoPolicySec: t.rpoSec,
    ...(rtoSec !== undefined ? { rtoSec } : {}),
    rtoPolicySec: t.rtoSec,
    older: { restored: restores.some((r) => r.which === "older"), forced: older.forced, seed: older.seed },
    restores,
    productionChanged: changed,
    problems,
  };
}

async function oneVmRestore(
  env: VmDrillEnv,
  api: PveApi,
  def: VmDrillDef,
  vm: VmDrillVm,
  vmid: number,
  prodConfig: Record<string, unknown>,
  p: PlannedVmRestore,
  run: string,
): Promise<VmRestoreOutcome> {
  const { node } = def;
  const startedAt = env.now();
  const base = {
    vm: vm.name,
    vmid,
    which: p.which,
    backup: p.backup.volid,
    backupAt: new Date(p.backup.ctime * 1000).toISOString(),
    vlan: def.vlan.name,
    ...(p.seed !== undefined ? { seed: p.seed, candidates: p.candidates! } : {}),
    ...(p.which === "newest" ? { rpoSec: Math.max(0, startedAt.getTime() / 1000 - p.backup.ctime) } : {}),
  };
  const used = new Set((await listVms(api)).map((v) => v.vmid));
  const scratch = scratchVmid(def.vmidRange, used);
  if (scratch === undefined)
    return {
      ...base,
      checks: [],
      ok: false,
      problems: [`no free VMID in ${def.vmidRange.min}-${def.vmidRange.max} for the scratch copy`],
    };
  let guest: Transport | undefined;
  /** Tasks started for the copy: waited for (with the cleanup client) before it is removed, so an interrupt mid-restore leaves nothing. */
  const tasks: unknown[] = [];
  try {
    env.progress(
      `${def.target.name}: restoring ${p.backup.volid} (${p.which}) of ${vm.name} to scratch VM ${scratch} on VLAN ${def.vlan.name} (${def.vlan.tag})`,
    );
    const t0 = performance.now();
    const mark = scratchMarking({ run, target: def.target.name, vm: vm.name, volid: p.backup.volid });
    // Calls that create something go through the client an interrupt does not abort: their task is always known, so waited for and undone.
    const keep = await env.cleanupApi(def.endpoint);
    const upid = await keep.post("/nodes/{node}/qemu", {
      node,
      vmid: scratch,
      archive: p.backup.volid,
      storage: def.storage,
      unique: true,
      ...mark,
      ...nicsOnVlan(prodConfig, def.vlan.tag),
    });
    tasks.push(upid);
    await abortable(env.signal, api.wait(upid, `restore of ${p.backup.volid} to ${scratch}`));
    await onDrillVlan(api, node, scratch, def.vlan.tag, prodConfig);
    const restoreSec = secondsSince(t0);

    const t1 = performance.now();
    const started = await keep.post("/nodes/{node}/qemu/{vmid}/status/start", { node, vmid: scratch });
    tasks.push(started);
    await abortable(env.signal, api.wait(started, `start of scratch VM ${scratch}`));
    const startSec = secondsSince(t1);

    const t2 = performance.now();
    const address = await waitFor(
      env,
      `the guest agent of scratch VM ${scratch} reporting an address`,
      def.agentTimeoutSec * 1000,
      () => agentIpv4(api, node, scratch).catch(() => undefined),
      1000,
    );
    const agentSec = secondsSince(t2);

    const t3 = performance.now();
    const checks: CheckResult[] = [];
    const login = vm.login;
    const probeEnv = {
      signal: env.signal,
      address,
      guest: async () => (guest ??= await env.openGuest(api, node, scratch, address, login!)),
    };
    for (const probe of vm.probes) checks.push(await runProbe(probeEnv, probe));
    const phases = { restoreSec, startSec, agentSec, probesSec: secondsSince(t3) };
    const problems = checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
    return {
      ...base,
      scratchVmid: scratch,
      address,
      phases,
      rtoSec: rtoOfVm(phases),
      checks,
      ok: problems.length === 0,
      problems,
    };
  } catch (e) {
    if (e instanceof Interrupted || env.signal.aborted) throw e instanceof Interrupted ? e : new Interrupted();
    return { ...base, scratchVmid: scratch, checks: [], ok: false, problems: [errorMessage(e)] };
  } finally {
    await guest?.close().catch(() => undefined);
    await (async () => {
      const cleanup = await env.cleanupApi(def.endpoint);
      for (const upid of tasks) await cleanup.wait(upid, `task of scratch VM ${scratch}`).catch(() => undefined);
      await removeCopyAt(cleanup, node, scratch, run);
    })().catch((e: unknown) =>
      env.progress(
        `${def.target.name}: could not remove scratch VM ${scratch} (the next drill removes it): ${errorMessage(e)}`,
      ),
    );
  }
}

/** Every NIC of the copy on the drill VLAN with a MAC production does not use; one the backup alone had is moved too. Before the copy ever starts. */
async function onDrillVlan(
  api: PveApi,
  node: string,
  vmid: number,
  tag: number,
  prodConfig: Record<string, unknown>,
): Promise<void> {
  let cfg = await api.get("/nodes/{node}/qemu/{vmid}/config", { node, vmid });
  const off = nicsOffVlan(cfg, tag);
  if (off.length) {
    const moves = nicsOnVlan(Object.fromEntries(off.map((k) => [k, (cfg as Record<string, unknown>)[k]])), tag);
    await api.wait(
      await api.post("/nodes/{node}/qemu/{vmid}/config", { node, vmid, ...moves }),
      `moving ${off.join(", ")} of ${vmid} to VLAN ${tag}`,
    );
    cfg = await api.get("/nodes/{node}/qemu/{vmid}/config", { node, vmid });
  }
  const still = nicsOffVlan(cfg, tag);
  if (still.length)
    throw new DrillError(
      `scratch VM ${vmid}: ${still.join(", ")} not on the drill VLAN ${tag}; the copy was not started`,
    );
  const prodMacs = new Set(macsOf(prodConfig));
  const shared = macsOf(cfg).filter((m) => prodMacs.has(m));
  if (shared.length)
    throw new DrillError(`scratch VM ${vmid} has production's MAC ${shared.join(", ")}; the copy was not started`);
}
