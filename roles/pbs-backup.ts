// pbs-backup: what backups/policy.yaml's VM targets ask of one Proxmox endpoint
// and its Proxmox Backup Server: the PBS datastore as Proxmox storage (pinned
// fingerprint, encryption key) after the datastores the inventory declares, a vzdump job per target (the tag expanded to
// VMs), and on the PBS the prune job (the policy's retention), the verify job,
// the GC schedule and the sync job that makes the offsite copy.
import { resolve } from "node:path";
import {
  Type,
  defineRole,
  type Resource,
  vmJobIds,
  badInput,
  backupJob,
  pbsService,
  pveService,
  pbsDatastore,
  pbsGcSchedule,
  pbsPruneJob,
  pbsSyncJob,
  pbsVerifyJob,
  pbsStorage,
  backupPrivileges,
  permissionPreflight,
} from "lab";

export const pbsBackup = defineRole({
  name: "pbs-backup",
  vars: Type.Object(
    {
      /** A name under proxmox: in the inventory (the targets whose endpoint it is are configured). */
      endpoint: Type.String(),
      /** Calendar event of each datastore's garbage collection (default "daily"). */
      gcSchedule: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  resources: (v, _host, tools) => {
    const ep = tools.lab.proxmox[v.endpoint];
    if (!ep)
      throw badInput(
        `role pbs-backup: unknown Proxmox endpoint "${v.endpoint}"`,
        {},
        `defined endpoints: ${Object.keys(tools.lab.proxmox).join(", ") || "(none)"}`,
      );
    const pve = pveService(v.endpoint, ep, tools.secret(ep.token_secret), tools.root);
    const storages = [...new Set(tools.backups.vms.filter((x) => x.endpoint === v.endpoint).map((x) => x.storage))];
    // Before anything changes: the PVE token may set up and run these backups (README: least-privilege token).
    const out: Resource[] = storages.length
      ? [permissionPreflight(pve, backupPrivileges(storages), "pve:preflight/backup-permissions")]
      : [];
    const gcDone = new Set<string>();
    const storesDone = new Set<string>();
    for (const t of tools.backups.vms.filter((x) => x.endpoint === v.endpoint)) {
      const pbsEp = tools.lab.pbs[t.pbs]!;
      if (!pbsEp.fingerprint && !pbsEp.ca_file)
        throw badInput(
          `PBS endpoint ${t.pbs}: Proxmox's pbs storage needs the certificate's fingerprint`,
          {},
          `set pbs.${t.pbs}.fingerprint (or ca_file to its self-signed certificate)`,
        );
      const url = new URL(pbsEp.url);
      const pbs = pbsService(t.pbs, pbsEp, tools.secret(pbsEp.token_secret), tools.root);
      // The datastores the inventory declares for this PBS come first: storage and jobs need them.
      for (const [store, d] of Object.entries(pbsEp.datastores ?? {})) {
        if (storesDone.has(`${t.pbs}/${store}`)) continue;
        storesDone.add(`${t.pbs}/${store}`);
        out.push(pbsDatastore(pbs, { store, path: d.path }));
      }
      out.push(
        pbsStorage(pve, {
          storage: t.storage,
          server: url.hostname,
          port: Number(url.port || 8007),
          datastore: t.datastore,
          username: pbsEp.backup_token_id ?? pbsEp.token_id,
          password: tools.secret(pbsEp.backup_token_secret ?? pbsEp.token_secret),
          // A self-signed certificate given as ca_file pins its own fingerprint (read when planning).
          fingerprint: pbsEp.fingerprint ?? { certFile: resolve(tools.root, pbsEp.ca_file!) },
          ...(t.encryptionKey ? { encryptionKey: tools.secret(t.encryptionKey) } : {}),
        }),
        backupJob(pve, {
          id: vmJobIds(t.name).backup,
          schedule: t.schedule,
          storage: t.storage,
          vms: [...t.vms],
          mode: t.mode,
          retention: t.retention,
          comment: `lab: backups/policy.yaml target ${t.name}`,
        }),
        // The policy's retention, enforced by PBS (vzdump's own prune-backups does the same after each backup).
        pbsPruneJob(pbs, { id: `lab-${t.name}`, store: t.datastore, schedule: "daily", retention: t.retention }),
      );
      if (t.verify)
        out.push(
          pbsVerifyJob(pbs, {
            id: `lab-${t.name}`,
            store: t.datastore,
            schedule: t.verify.schedule,
            ...(t.verify.outdated_after ? { outdatedAfter: t.verify.outdated_after } : {}),
          }),
        );
      if (t.offsite) {
        out.push(
          pbsSyncJob(pbs, {
            id: vmJobIds(t.name).offsiteSync,
            store: t.offsite.datastore,
            remoteStore: t.datastore,
            schedule: t.offsite.schedule,
          }),
        );
        // The offsite copy keeps the same retention.
        out.push(
          pbsPruneJob(pbs, {
            id: vmJobIds(t.name).offsiteSync,
            store: t.offsite.datastore,
            schedule: "daily",
            retention: t.retention,
          }),
        );
      }
      for (const store of [t.datastore, ...(t.offsite ? [t.offsite.datastore] : [])]) {
        if (gcDone.has(`${t.pbs}/${store}`)) continue;
        gcDone.add(`${t.pbs}/${store}`);
        out.push(pbsGcSchedule(pbs, { store, schedule: v.gcSchedule ?? "daily" }));
      }
    }
    return out;
  },
});
