// `lab backup prune-preview FILE [--json]`: an offline what-if of a PBS prune, a subcommand of `lab backup`.
import type { Command } from "commander";
import { ExitCode } from "../errors.ts";

export function registerBackupCommands(backup: Command, setCode: (code: number) => void): void {
  backup.command("prune-preview")
    .description("which snapshots a PBS prune with these keep options would remove (offline, nothing contacted)")
    .argument("<file>", 'JSON: {"keep": {"daily": 7, ...}, "timezone": "Europe/Berlin", "snapshots": [{"time": "2026-01-01T02:00:00Z", "finished": true, "protected": false}]}')
    .option("--json", 'print {"keep": [times], "remove": [times]}')
    .action(async (file: string, o: { json?: boolean }) => {
      const { loadPreview, previewJson, previewPrune, previewTable } = await import("../backup/prune-preview.ts");
      const input = await loadPreview(file);
      const rows = previewPrune(input);
      // `lab backup` has a --json of its own: commander gives the flag to it when both have one.
      const json = Boolean(o.json ?? backup.opts<{ json?: boolean }>().json);
      process.stdout.write(json ? `${JSON.stringify(previewJson(rows))}\n` : previewTable(rows, input.timezone));
      setCode(ExitCode.ok);
    });
}
