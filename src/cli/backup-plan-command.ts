// `lab backup plan [TARGET...] [--json]`: for each PBS backup group of the
// policy's VM targets, which snapshots the next prune removes. A read-only
// workflow: the VM ids from Proxmox, the snapshot lists and prune jobs from the
// PBS the inventory names (pinned TLS, token), PBS's selection computed here.
import { vmJobIds, type BackupPolicy, type VmPolicy } from "../backup/policy.ts";
import { formatPlanTable, planGroup, prunedStores, type BackupPlan, type GroupPlan } from "../backup/plan.ts";
import type { RunContext } from "../engine/context.ts";
import { ExitCode, badInput } from "../errors.ts";
import { redact } from "../secrets/secret.ts";
import { checkedPolicy } from "./backup-check-command.ts";
import { openWorkflow, type WorkflowOptions } from "./workflow-context.ts";

export interface BackupPlanOptions extends WorkflowOptions {
  targets: string[];
}

async function planTarget(ctx: RunContext, t: VmPolicy, now: Date): Promise<GroupPlan[]> {
  const { pbsClient, pveClient } = await import("../proxmox/resources/connect.ts");
  const { isTemplate, listVms } = await import("../proxmox/resources/find.ts");
  const found = (await listVms(await pveClient(ctx, t.endpoint))).filter((v) => !isTemplate(v));
  const pbs = await pbsClient(ctx, t.pbs);
  const out: GroupPlan[] = [];
  for (const store of prunedStores(t)) {
    const [snapshots, jobs] = await Promise.all([
      pbs.get("/admin/datastore/{store}/snapshots", { store }),
      pbs.get("/admin/prune", { store }),
    ]);
    // The prune job roles/pbs-backup.ts made for this target and datastore (ids shared with its other jobs).
    const ids = vmJobIds(t.name);
    const job = jobs.find((j) => j.id === (store === t.datastore ? ids.backup : ids.offsiteSync));
    for (const name of t.vms) {
      const vmid = found.find((v) => v.name === name)?.vmid;
      out.push(planGroup(t, vmid === undefined ? { name } : { name, vmid }, store, snapshots, job, now));
    }
  }
  return out;
}

export async function backupPlanCommand(o: BackupPlanOptions): Promise<number> {
  const stdout = o.stdout ?? process.stdout;
  const { ctx } = await openWorkflow(o);
  try {
    const { policy } = await checkedPolicy(ctx, o);
    const selected: BackupPolicy["vms"] = policy.vms.filter((t) => !o.targets.length || o.targets.includes(t.name));
    if (!selected.length) {
      throw badInput(
        o.targets.length
          ? `no VM target among ${o.targets.join(", ")}: only PBS groups are pruned`
          : "the policy has no VM target: nothing is pruned by PBS",
        { file: policy.file },
        `VM targets: ${policy.vms.map((t) => t.name).join(", ") || "(none)"}`,
      );
    }
    const now = (o.now ?? (() => new Date()))();
    const groups = (await Promise.all(selected.map((t) => planTarget(ctx, t, now)))).flat();
    const plan: BackupPlan = { format_version: 1, timezone: selected[0]!.timezone, groups };
    stdout.write(redact(o.json ? `${JSON.stringify(plan, null, 2)}\n` : `${formatPlanTable(plan, now)}\n`));
    return ExitCode.ok;
  } finally {
    await ctx.close();
  }
}
