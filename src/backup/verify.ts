// `lab backup verify` (weekly): `pgbackrest verify` of every repository, read from
// its text report — pgBackRest 2.45 exits 0 even when it reports `status: error`,
// so the exit code alone would hide damaged backups — and the PBS verify state of
// every VM's newest backup (from the same listing the nightly check reads).
import { sh } from "../sh.ts";
import type { BackupEnv } from "./check.ts";
import type { Metric } from "./metrics.ts";
import type { PgPolicy } from "./policy.ts";

export interface RepoVerify {
  readonly target: string;
  readonly repository: string;
  readonly ok: boolean;
  /** One line per damaged backup or WAL range, as pgBackRest names them. */
  readonly findings: readonly string[];
}

const VERIFY_TIMEOUT_MS = 6 * 3600_000;

/** Parse `pgbackrest verify --output=text --verbose`. */
export function parseVerify(text: string): { ok: boolean; findings: string[] } {
  const status = /^status: (\w+)/m.exec(text)?.[1];
  const findings: string[] = [];
  let subject = "";
  for (const line of text.split("\n")) {
    const head = /^\s+(archiveId: [^\s,]+|backup: [^\s,]+)(?:, status: (\w+))?/.exec(line);
    if (head) {
      subject = head[1]!;
      if (head[2] && head[2] !== "valid") findings.push(`${subject} is ${head[2]}`);
      continue;
    }
    const counts = /^\s+missing: (\d+), checksum invalid: (\d+), size invalid: (\d+), other: (\d+)/.exec(line);
    if (counts) {
      const [, missing, checksum, size, other] = counts.map(Number) as [number, number, number, number, number];
      const bad = [
        missing && `${missing} missing`,
        checksum && `${checksum} with a wrong checksum`,
        size && `${size} with a wrong size`,
        other && `${other} other errors`,
      ].filter(Boolean);
      if (bad.length) findings.push(`${subject}: ${bad.join(", ")}`);
    }
  }
  if (status === undefined) findings.push(`no verify report: ${text.trim().split("\n").pop() ?? "(empty output)"}`);
  return { ok: status === "ok" && findings.length === 0, findings: [...new Set(findings)] };
}

export async function verifyPg(env: BackupEnv, p: PgPolicy): Promise<RepoVerify[]> {
  const out: RepoVerify[] = [];
  for (const r of p.repositories) {
    env.progress?.(`${p.name}: pgbackrest verify of ${r.name} (repo${r.index})`);
    try {
      const res = await env.exec(
        r.host ?? p.host,
        sh`runuser -u ${r.user} -- pgbackrest ${`--stanza=${p.stanza}`} ${`--repo=${r.index}`} --output=text --verbose verify 2>&1`,
        { timeoutMs: VERIFY_TIMEOUT_MS },
      );
      const v = parseVerify(res.stdout);
      out.push({
        target: p.name,
        repository: r.name,
        ok: v.ok && res.code === 0,
        findings: res.code === 0 ? v.findings : [`exit ${res.code}`, ...v.findings],
      });
    } catch (e) {
      out.push({ target: p.name, repository: r.name, ok: false, findings: [`cannot verify: ${(e as Error).message}`] });
    }
  }
  return out;
}

export function verifyMetrics(results: readonly RepoVerify[], now: Date): Metric[] {
  return [
    {
      name: "lab_backup_verify_ok",
      help: "1 when the last `lab backup verify` found the repository intact.",
      type: "gauge",
      samples: results.map((r) => ({
        labels: { target: r.target, kind: "postgres", repository: r.repository },
        value: r.ok ? 1 : 0,
      })),
    },
    {
      name: "lab_backup_verify_timestamp_seconds",
      help: "When lab backup verify last ran.",
      type: "gauge",
      samples: [{ labels: {}, value: Math.round(now.getTime() / 1000) }],
    },
  ];
}
