// Subcommands of `lab backup`: `prune-preview FILE` (an offline what-if of a PBS
// prune) and `plan` (what the next prune removes, from the PBS itself).
import type { Command } from "commander";
import { resolve } from "node:path";
import { ExitCode } from "../errors.ts";

export function registerBackupCommands(backup: Command, setCode: (code: number) => void, verbose: () => boolean): void {
  backup
    .command("plan")
    .description(
      "for each PBS backup group of the policy's VM targets, which snapshots the next prune removes (nothing is changed)",
    )
    .argument("[targets...]", "only these VM targets")
    .option("--json", "print the plan as JSON (format_version 1)")
    .action(async (targets: string[], o: { json?: boolean }) => {
      const g = backup.parent!.opts<{ root: string; inventory: string }>();
      const parent = backup.opts<{ policy?: string; json?: boolean }>();
      const root = resolve(g.root);
      const { backupPlanCommand } = await import("./backup-plan-command.ts");
      setCode(
        await backupPlanCommand({
          root,
          inventory: resolve(root, g.inventory),
          targets,
          json: Boolean(o.json ?? parent.json),
          verbose: verbose(),
          ...(parent.policy ? { policy: parent.policy } : {}),
        }),
      );
    });
  backup
    .command("prune-preview")
    .description("which snapshots a PBS prune with these keep options would remove (offline, nothing contacted)")
    .argument(
      "<file>",
      'JSON: {"keep": {"daily": 7, ...}, "timezone": "Europe/Berlin", "snapshots": [{"time": "2026-01-01T02:00:00Z", "finished": true, "protected": false}]}',
    )
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
