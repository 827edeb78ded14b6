import { readFile, readdir } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { formatMetrics, writeTextfile, type Metric } from "../../../src/backup/metrics.ts";
import { tempDir } from "../helpers/temp.ts";

describe("textfile metrics", () => {
  const m: Metric[] = [
    {
      name: "lab_backup_rpo_seconds",
      help: "The target's RPO.",
      type: "gauge",
      samples: [{ labels: { target: "db1-main", repository: "offsite" }, value: 60 }],
    },
    {
      name: "lab_backup_ok",
      help: "1 when the target meets its policy.",
      type: "gauge",
      samples: [
        { labels: { target: 'we"ird\\name' }, value: 0 },
        { labels: {}, value: Infinity },
      ],
    },
  ];

  it("formats the exposition format with escaped labels", () => {
    expect(formatMetrics(m)).toBe(
      '# HELP lab_backup_rpo_seconds The target\'s RPO.\n# TYPE lab_backup_rpo_seconds gauge\nlab_backup_rpo_seconds{target="db1-main",repository="offsite"} 60\n' +
        '# HELP lab_backup_ok 1 when the target meets its policy.\n# TYPE lab_backup_ok gauge\nlab_backup_ok{target="we\\"ird\\\\name"} 0\nlab_backup_ok +Inf\n',
    );
    expect(() => formatMetrics([{ ...m[0]!, name: "lab-backup" }])).toThrow("invalid metric name lab-backup");
  });

  it("replaces the file atomically and leaves no temp file", async () => {
    const dir = await tempDir("lab-metrics-");
    const file = await writeTextfile(dir, "lab-backup", m);
    expect(await readFile(file, "utf8")).toBe(formatMetrics(m));
    await writeTextfile(dir, "lab-backup", m.slice(0, 1));
    expect(await readFile(file, "utf8")).toBe(formatMetrics(m.slice(0, 1)));
    expect(await readdir(dir)).toEqual(["lab-backup.prom"]);
  });
});
