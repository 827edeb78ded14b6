// `lab backup ...`: for now `prune-preview FILE [--json]` (offline what-if of a PBS prune).
import type { Command } from "commander";
import { ExitCode } from "../errors.ts";

export function registerBackupCommands(program: Command, setCode: (code: number) => void): void {
  const backup = program.command("backup").description("backups: PBS prune preview");
  backup.command("prune-preview")
    .description("which snapshots a PBS prune with these keep options would remove (offline, nothing contacted)")
    .argument("<file>", 'JSON: {"keep": {"daily": 7, ...}, "timezone": "Europe/Berlin", "snapshots": [{"time": "2026-01-01T02:00:00Z", "finished": true, "protected": false}]}')
    .option("--json", 'print {"keep": [times], "remove": [times]}')
    .action(async (file: string, o: { json?: boolean }) => {
      const { loadPreview, previewJson, previewPrune, previewTable } = await import("../backup/prune-preview.ts");
      const input = await loadPreview(file);
      const rows = previewPrune(input);
      process.stdout.write(o.json ? `${JSON.stringify(previewJson(rows))}\n` : previewTable(rows, input.timezone));
      setCode(ExitCode.ok);
    });
}
