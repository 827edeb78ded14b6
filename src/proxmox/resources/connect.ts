// One Proxmox client per endpoint per run (a run-wide service), adapted to the
// small PveApi the resources use. Token auth and pinned TLS come from the
// inventory; the token secret from secrets.age.
import { resolve } from "node:path";
import { accessSync, appendFileSync, constants } from "node:fs";
import type { RunContext, ServiceCtx } from "../../engine/context.ts";
import { ExitCode, LabError } from "../../errors.ts";
import type { PbsEndpoint, PveEndpoint } from "../../inventory/model.ts";
import type { Secret } from "../../secrets/secret.ts";
import { ProxmoxClient, type RecordedCall } from "../client.ts";
import { type PbsApi, type PveApi, pbsApi, pveApi } from "./api.ts";
import { VmidAllocator } from "./find.ts";

export type { PveEndpoint } from "../../inventory/model.ts";

export function pveService(
  name: string,
  ep: PveEndpoint,
  tokenSecret: Secret,
  root: string,
): (ctx: ServiceCtx) => Promise<PveApi> {
  return (ctx) =>
    ctx.service(`pve:${name}`, async () => {
      if (!ep.fingerprint && !ep.ca_file) {
        throw new LabError(
          `Proxmox endpoint ${name}: neither fingerprint nor ca_file is set`,
          ExitCode.badInput,
          {},
          "pin the API certificate: proxmox.<endpoint>.fingerprint (SHA-256) or ca_file",
        );
      }
      const caFile = ep.ca_file ? resolve(root, ep.ca_file) : undefined;
      if (caFile) checkCaFile(name, caFile);
      const client = await ProxmoxClient.connect({
        url: ep.url,
        auth: { tokenId: ep.token_id, tokenSecret: tokenSecret.reveal() },
        tls: caFile
          ? { caFile, ...(ep.fingerprint ? { fingerprint: ep.fingerprint } : {}) }
          : { fingerprint: ep.fingerprint! },
        tasks: { timeoutMs: (ep.task_timeout ?? 600) * 1000 },
        log: ctx.log,
        signal: ctx.signal,
        ...recordTo(process.env.LAB_PVE_RECORD),
      });
      return pveApi(client, name, ctx.log);
    });
}

/**
 * LAB_PVE_RECORD=FILE: every call (PVE and PBS) as a JSON line: method, path, parameter names and
 * values, the reply, secrets REDACTED by the transport (conformance tests: checkCalls).
 */
const recordTo = (file: string | undefined): { recorder?: (c: RecordedCall) => void } =>
  file ? { recorder: (c) => appendFileSync(file, `${JSON.stringify(c)}\n`) } : {};

/** A missing or unreadable CA file is the inventory's mistake, said as such (not a raw ENOENT from the TLS setup). */
function checkCaFile(endpoint: string, file: string): void {
  try {
    accessSync(file, constants.R_OK);
  } catch (e) {
    const why =
      (e as NodeJS.ErrnoException).code === "ENOENT"
        ? "does not exist"
        : `cannot be read (${(e as NodeJS.ErrnoException).code})`;
    throw new LabError(
      `Proxmox endpoint ${endpoint}: ca_file ${file} ${why}`,
      ExitCode.badInput,
      { file },
      `copy the cluster CA (/etc/pve/pve-root-ca.pem on a node) to ${file}, fix proxmox.${endpoint}.ca_file (relative to the project root), or pin fingerprint instead`,
    );
  }
}

/** A workflow's client for an inventory endpoint (`lab backup`, `lab drill`): the same run-wide one the resources use. */
export function pveClient(run: RunContext, endpoint: string): Promise<PveApi> {
  const ep = run.lab.proxmox[endpoint];
  if (!ep)
    throw new LabError(
      `unknown Proxmox endpoint "${endpoint}"`,
      ExitCode.badInput,
      {},
      `defined endpoints: ${Object.keys(run.lab.proxmox).join(", ") || "(none)"}`,
    );
  return pveService(endpoint, ep, run.secret(ep.token_secret), run.root)(run);
}

/** One PBS API client per endpoint per run: token auth, pinned TLS (fingerprint or CA file). */
export function pbsService(
  name: string,
  ep: PbsEndpoint,
  tokenSecret: Secret,
  root: string,
): (ctx: ServiceCtx) => Promise<PbsApi> {
  return (ctx) =>
    ctx.service(`pbs:${name}`, async () => {
      if (!ep.fingerprint && !ep.ca_file) {
        throw new LabError(
          `PBS endpoint ${name}: neither fingerprint nor ca_file is set`,
          ExitCode.badInput,
          {},
          "pin the PBS certificate: pbs.<endpoint>.fingerprint (SHA-256; Proxmox needs it too) or ca_file",
        );
      }
      const client = await ProxmoxClient.connect({
        url: ep.url,
        product: "pbs",
        auth: { tokenId: ep.token_id, tokenSecret: tokenSecret.reveal() },
        tls: ep.ca_file
          ? { caFile: resolve(root, ep.ca_file), ...(ep.fingerprint ? { fingerprint: ep.fingerprint } : {}) }
          : { fingerprint: ep.fingerprint! },
        log: ctx.log,
        signal: ctx.signal,
        ...recordTo(process.env.LAB_PVE_RECORD),
      });
      return pbsApi(client, name);
    });
}

export function pbsClient(run: RunContext, endpoint: string): Promise<PbsApi> {
  const ep = run.lab.pbs[endpoint];
  if (!ep)
    throw new LabError(
      `unknown PBS endpoint "${endpoint}"`,
      ExitCode.badInput,
      {},
      `defined PBS endpoints: ${Object.keys(run.lab.pbs).join(", ") || "(none)"}`,
    );
  return pbsService(endpoint, ep, run.secret(ep.token_secret), run.root)(run);
}

export function vmidService(name: string, ep: PveEndpoint): (ctx: ServiceCtx) => Promise<VmidAllocator> {
  return (ctx) =>
    ctx.service(`vmids:${name}`, () => Promise.resolve(new VmidAllocator(ep.vmid_range ?? { min: 100, max: 999_999 })));
}
