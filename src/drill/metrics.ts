// lab-drill.prom (node-exporter's textfile collector): per target the last run,
// success, RPO and RTO achieved, written atomically by src/backup/metrics.ts.
import type { Metric, Sample } from "../backup/metrics.ts";
import type { DrillReport } from "./report.ts";

export function drillMetrics(r: DrillReport): Metric[] {
  const at = Math.round(Date.parse(r.finished_at) / 1000);
  const last: Sample[] = [],
    ok: Sample[] = [],
    rpo: Sample[] = [],
    rto: Sample[] = [],
    rpoPol: Sample[] = [],
    rtoPol: Sample[] = [];
  for (const d of r.drills) {
    const labels = { target: d.target, kind: d.kind };
    last.push({ labels, value: at });
    ok.push({ labels, value: d.ok && !r.interrupted ? 1 : 0 });
    if (d.rpoSec !== undefined) rpo.push({ labels, value: Math.round(d.rpoSec * 1000) / 1000 });
    if (d.rtoSec !== undefined) rto.push({ labels, value: Math.round(d.rtoSec * 1000) / 1000 });
    rpoPol.push({ labels, value: d.rpoPolicySec });
    rtoPol.push({ labels, value: d.rtoPolicySec });
  }
  return [
    {
      name: "lab_drill_last_run_timestamp_seconds",
      help: "When the last restore drill of the target ended.",
      type: "gauge",
      samples: last,
    },
    {
      name: "lab_drill_success",
      help: "1 when the last drill passed every check and met the policy's RPO and RTO.",
      type: "gauge",
      samples: ok,
    },
    {
      name: "lab_drill_rpo_seconds",
      help: "RPO achieved by the last drill: declared failure minus the newest heartbeat that survived.",
      type: "gauge",
      samples: rpo,
    },
    {
      name: "lab_drill_rto_seconds",
      help: "RTO achieved by the last drill: restore start to verified (its slowest restore).",
      type: "gauge",
      samples: rto,
    },
    {
      name: "lab_drill_rpo_policy_seconds",
      help: "The target's RPO from backups/policy.yaml.",
      type: "gauge",
      samples: rpoPol,
    },
    {
      name: "lab_drill_rto_policy_seconds",
      help: "The target's RTO from backups/policy.yaml.",
      type: "gauge",
      samples: rtoPol,
    },
  ];
}
