// Prometheus textfile-collector metrics (node-exporter --collector.textfile.directory):
// one *.prom file per command (lab-backup.prom, lab-drill.prom), replaced atomically
// so the collector never reads half a file.
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: "gauge" | "counter";
  readonly samples: readonly Sample[];
}

const escapeLabel = (v: string) => v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

const formatValue = (v: number) =>
  Number.isNaN(v) ? "NaN" : v === Infinity ? "+Inf" : v === -Infinity ? "-Inf" : String(v);

/** The exposition text format (version 0.0.4). */
export function formatMetrics(metrics: readonly Metric[]): string {
  let out = "";
  for (const m of metrics) {
    if (!NAME.test(m.name)) throw new Error(`invalid metric name ${m.name}`);
    out += `# HELP ${m.name} ${m.help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n")}\n# TYPE ${m.name} ${m.type}\n`;
    for (const s of m.samples) {
      const labels = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(",");
      out += `${m.name}${labels ? `{${labels}}` : ""} ${formatValue(s.value)}\n`;
    }
  }
  return out;
}

/** Write DIR/NAME.prom atomically (temp file in the same directory, then rename). */
export async function writeTextfile(dir: string, name: string, metrics: readonly Metric[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${name}.prom`);
  const tmp = join(dir, `.${name}.prom.${process.pid}.tmp`);
  await writeFile(tmp, formatMetrics(metrics), { mode: 0o644 });
  await rename(tmp, file);
  return file;
}
