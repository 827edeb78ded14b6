// Writing a run's report files (JSON, Markdown, SVG chart) into backups/reports/,
// each atomically (temp file + rename): a crash leaves old or new, never half.
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { chartPoints, chartSvg } from "./chart.ts";
import { readReports, reportsDir } from "./history.ts";
import { formatMarkdown, reportBase, type DrillReport } from "./report.ts";

async function atomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, file);
}

export async function writeReportFiles(
  root: string,
  r: DrillReport,
): Promise<{ json: string; markdown: string; svg: string }> {
  const dir = reportsDir(root);
  await mkdir(dir, { recursive: true });
  const base = join(dir, reportBase(r.started_at));
  const files = { json: `${base}.json`, markdown: `${base}.md`, svg: `${base}.svg` };
  await atomic(files.json, `${JSON.stringify(r, null, 2)}\n`);
  // The chart: every past report, this one included (just written).
  await atomic(files.svg, chartSvg(chartPoints(await readReports(root))));
  await atomic(files.markdown, formatMarkdown(r, `${reportBase(r.started_at)}.svg`));
  return files;
}
