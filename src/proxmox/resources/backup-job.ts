// A vzdump backup job (/cluster/backup): schedule in Proxmox calendar syntax,
// the PBS storage, mode, retention (prune-backups) and a notes template. Proxmox
// selects guests by vmid, all+exclude or pool, not by tag: the job names VMs, and
// read() turns their names into the vmids Proxmox gave them, so adding a tagged
// VM to the inventory shows up in `lab plan` as a change of `vmid`.
import { defined, valueChange } from "../../resources/attrs-diff.ts";
import type { Change, HostCtx, Resource } from "../../engine/types.ts";
import { ExitCode, LabError } from "../../errors.ts";
import { Type, type Static } from "@sinclair/typebox";
import { closed, oneOf } from "../../resources/options.ts";
import { isMissing, type ParamsFor, type PveApi, type Reply } from "./api.ts";
import { checkWant } from "./check.ts";
import { isTemplate, listVms } from "./find.ts";

const Keep = Type.Optional(Type.Integer({ minimum: 0 }));
export const Retention = Type.Object(
  { last: Keep, hourly: Keep, daily: Keep, weekly: Keep, monthly: Keep, yearly: Keep },
  closed,
);
export type Retention = Static<typeof Retention>;

export const BackupJobWant = Type.Object(
  {
    /** Job id, e.g. "lab-trusted-vms". */
    id: Type.String({ minLength: 1 }),
    /** Proxmox calendar event, e.g. "*-*-* 02:30". */
    schedule: Type.String({ minLength: 1 }),
    storage: Type.String({ minLength: 1 }),
    /** VM names (inventory vms:), in Proxmox as guests of this endpoint. */
    vms: Type.Array(Type.String()),
    mode: oneOf(["snapshot", "suspend", "stop"]),
    retention: Retention,
    notesTemplate: Type.Optional(Type.String()),
    comment: Type.Optional(Type.String()),
  },
  closed,
);
export type BackupJobWant = Static<typeof BackupJobWant>;

export interface BackupJobHave {
  job: Reply<"/cluster/backup/{id}"> | undefined;
  /** VM name -> vmid (undefined: not created yet). */
  vmids: Record<string, number | undefined>;
}

export const DEFAULT_NOTES = "{{guestname}} ({{node}}) by lab";

/** prune-backups as Proxmox writes it: keep-* in a fixed order, none at zero. */
export function pruneBackups(r: Retention): string {
  const parts = (["last", "hourly", "daily", "weekly", "monthly", "yearly"] as const)
    .filter((k) => r[k])
    .map((k) => `keep-${k}=${r[k]}`);
  return parts.length ? parts.join(",") : "keep-all=1";
}

const pruneOf = (v: unknown): string => {
  if (v && typeof v === "object")
    return pruneBackups(Object.fromEntries(Object.entries(v).map(([k, n]) => [k.replace(/^keep-/, ""), Number(n)])));
  const text = typeof v === "string" ? v : "";
  return pruneBackups(
    Object.fromEntries(
      text
        .split(",")
        .filter(Boolean)
        .map((kv) => {
          const [k, n] = kv.split("=");
          return [String(k).replace(/^keep-/, ""), Number(n)];
        }),
    ),
  );
};

const vmidList = (ids: (number | undefined)[]) =>
  ids
    .filter((x): x is number => x !== undefined)
    .sort((a, b) => a - b)
    .join(",");
const truthy = (v: unknown) => v === true || v === 1 || v === "1";

export function backupJob(
  pve: (ctx: HostCtx) => Promise<PveApi>,
  want: BackupJobWant,
): Resource<BackupJobWant, BackupJobHave> {
  checkWant("backupJob", BackupJobWant, want);
  return {
    id: `pve:backup-job/${want.id}`,
    want,
    async read(ctx) {
      const api = await pve(ctx);
      // Current names: VMs an earlier play of this run created are not yet named in /cluster/resources.
      const guests = (await listVms(api, { current: true })).filter((v) => !isTemplate(v));
      const vmids = Object.fromEntries(want.vms.map((n) => [n, guests.find((g) => g.name === n)?.vmid]));
      try {
        return { job: await api.get("/cluster/backup/{id}", { id: want.id }), vmids };
      } catch (e) {
        if (isMissing(e)) return { job: undefined, vmids };
        throw e;
      }
    },
    diff: backupJobDiff,
    async apply(ctx, _changes, have) {
      const missing = want.vms.filter((n) => have.vmids[n] === undefined);
      if (missing.length)
        throw new LabError(
          `backup job ${want.id}: VM(s) ${missing.join(", ")} do not exist yet`,
          ExitCode.failed,
          {},
          "the VMs are created by the proxmox play: apply it first (or again)",
        );
      const api = await pve(ctx);
      const params = {
        schedule: want.schedule,
        storage: want.storage,
        vmid: vmidList(Object.values(have.vmids)),
        mode: want.mode,
        "prune-backups": pruneBackups(want.retention),
        "notes-template": want.notesTemplate ?? DEFAULT_NOTES,
        enabled: true,
        comment: want.comment ?? "managed by lab",
      } satisfies ParamsFor<"POST", "/cluster/backup"> & Omit<ParamsFor<"PUT", "/cluster/backup/{id}">, "id">;
      if (!have.job) await api.post("/cluster/backup", { id: want.id, ...params });
      // PVE refuses vmid next to a stored all=1 unless the same call deletes it.
      else
        await api.put("/cluster/backup/{id}", {
          id: want.id,
          ...params,
          ...(truthy(have.job.all) ? { delete: "all" } : {}),
        });
    },
    ok: (have) =>
      `backup job ${want.id} backs up ${want.vms.join(", ")} (${vmidList(Object.values(have.vmids))}) to ${want.storage} at "${want.schedule}"`,
  };
}

export function backupJobDiff(want: BackupJobWant, have: BackupJobHave): Change[] {
  const ids = want.vms.map((n) => (have.vmids[n] === undefined ? `${n}: known after apply` : String(have.vmids[n])));
  const wantVmid = vmidList(Object.values(have.vmids));
  if (!have.job)
    return [
      valueChange(
        "create",
        `create backup job ${want.id}: ${ids.join(", ")} to ${want.storage} at "${want.schedule}", ${pruneBackups(want.retention)}`,
        null,
        defined({
          id: want.id,
          vmid: ids.join(","),
          storage: want.storage,
          schedule: want.schedule,
          mode: want.mode,
          "prune-backups": pruneBackups(want.retention),
          "notes-template": want.notesTemplate ?? DEFAULT_NOTES,
        }),
      ),
    ];
  const j = have.job;
  const out: Change[] = [];
  const cmp = (key: string, h: unknown, w: string) => {
    const hs = typeof h === "string" || typeof h === "number" ? String(h) : "";
    if (hs !== w) out.push(valueChange(key, `${key} ${hs || "(none)"} -> ${w}`, hs || null, w));
  };
  cmp("schedule", j.schedule, want.schedule);
  cmp("storage", j.storage, want.storage);
  const vmidNow = String(j.vmid ?? "")
    .split(",")
    .filter(Boolean)
    .map(Number)
    .sort((a, b) => a - b)
    .join(",");
  if (vmidNow !== wantVmid || ids.some((x) => x.includes("known after apply")))
    out.push(valueChange("vmid", `vmid ${vmidNow || "(none)"} -> ${ids.join(",")}`, vmidNow || null, ids.join(",")));
  cmp("mode", j.mode ?? "snapshot", want.mode);
  if (pruneOf(j["prune-backups"]) !== pruneBackups(want.retention))
    out.push(
      valueChange(
        "prune-backups",
        `prune-backups ${pruneOf(j["prune-backups"])} -> ${pruneBackups(want.retention)}`,
        pruneOf(j["prune-backups"]),
        pruneBackups(want.retention),
      ),
    );
  cmp("notes-template", j["notes-template"], want.notesTemplate ?? DEFAULT_NOTES);
  if (!truthy(j.enabled ?? 1)) out.push(valueChange("enabled", "enabled 0 -> 1", 0, 1));
  if (j.all && truthy(j.all)) out.push(valueChange("all", "all 1 -> 0 (the job names its VMs)", 1, 0));
  return out;
}
