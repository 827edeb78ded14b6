// One Proxmox client per endpoint per run (a run-wide service), adapted to the
// small PveApi the resources use. Token auth and pinned TLS come from the
// inventory; the token secret from secrets.age.
import { resolve } from "node:path";
import { appendFileSync } from "node:fs";
import type { RunContext, ServiceCtx } from "../../engine/context.ts";
import { ExitCode, LabError } from "../../errors.ts";
import type { PbsEndpoint, PveEndpoint } from "../../inventory/model.ts";
import type { Secret } from "../../secrets/secret.ts";
import { ProxmoxClient } from "../client.ts";
import { type PbsApi, type PveApi, pbsApi, pveApi } from "./api.ts";
import { VmidAllocator } from "./find.ts";

export type { PveEndpoint } from "../../inventory/model.ts";

export function pveService(name: string, ep: PveEndpoint, tokenSecret: Secret, root: string): (ctx: ServiceCtx) => Promise<PveApi> {
  return (ctx) => ctx.service(`pve:${name}`, async () => {
    if (!ep.fingerprint && !ep.ca_file) {
      throw new LabError(`Proxmox endpoint ${name}: neither fingerprint nor ca_file is set`, ExitCode.badInput, {}, "pin the API certificate: proxmox.<endpoint>.fingerprint (SHA-256) or ca_file");
    }
    const record = process.env.LAB_PVE_RECORD;
    const client = await ProxmoxClient.connect({
      url: ep.url,
      auth: { tokenId: ep.token_id, tokenSecret: tokenSecret.reveal() },
      tls: ep.ca_file ? { caFile: resolve(root, ep.ca_file), ...(ep.fingerprint ? { fingerprint: ep.fingerprint } : {}) } : { fingerprint: ep.fingerprint! },
      tasks: { timeoutMs: (ep.task_timeout ?? 600) * 1000 },
      log: ctx.log,
      signal: ctx.signal,
      // LAB_PVE_RECORD=FILE: every call's method, path and parameter names, as JSON lines (conformance tests).
      ...(record ? { recorder: (c) => appendFileSync(record, `${JSON.stringify(c)}\n`) } : {}),
    });
    return pveApi(client, name, ctx.log);
  });
}

/** A workflow's client for an inventory endpoint (`lab backup`, `lab drill`): the same run-wide one the resources use. */
export function pveClient(run: RunContext, endpoint: string): Promise<PveApi> {
  const ep = run.lab.proxmox[endpoint];
  if (!ep) throw new LabError(`unknown Proxmox endpoint "${endpoint}"`, ExitCode.badInput, {}, `defined endpoints: ${Object.keys(run.lab.proxmox).join(", ") || "(none)"}`);
  return pveService(endpoint, ep, run.secret(ep.token_secret), run.root)(run);
}

/** One PBS API client per endpoint per run: token auth, pinned TLS (fingerprint or CA file). */
export function pbsService(name: string, ep: PbsEndpoint, tokenSecret: Secret, root: string): (ctx: ServiceCtx) => Promise<PbsApi> {
  return (ctx) => ctx.service(`pbs:${name}`, async () => {
    if (!ep.fingerprint && !ep.ca_file) {
      throw new LabError(`PBS endpoint ${name}: neither fingerprint nor ca_file is set`, ExitCode.badInput, {}, "pin the PBS certificate: pbs.<endpoint>.fingerprint (SHA-256; Proxmox needs it too) or ca_file");
    }
    const client = await ProxmoxClient.connect({
      url: ep.url, product: "pbs",
      auth: { tokenId: ep.token_id, tokenSecret: tokenSecret.reveal() },
      tls: ep.ca_file ? { caFile: resolve(root, ep.ca_file), ...(ep.fingerprint ? { fingerprint: ep.fingerprint } : {}) } : { fingerprint: ep.fingerprint! },
      log: ctx.log,
      signal: ctx.signal,
    });
    return pbsApi(client, name);
  });
}

export function pbsClient(run: RunContext, endpoint: string): Promise<PbsApi> {
  const ep = run.lab.pbs[endpoint];
  if (!ep) throw new LabError(`unknown PBS endpoint "${endpoint}"`, ExitCode.badInput, {}, `defined PBS endpoints: ${Object.keys(run.lab.pbs).join(", ") || "(none)"}`);
  return pbsService(endpoint, ep, run.secret(ep.token_secret), run.root)(run);
}

export function vmidService(name: string, ep: PveEndpoint): (ctx: ServiceCtx) => Promise<VmidAllocator> {
  return (ctx) => ctx.service(`vmids:${name}`, () => Promise.resolve(new VmidAllocator(ep.vmid_range ?? { min: 100, max: 999_999 })));
}
