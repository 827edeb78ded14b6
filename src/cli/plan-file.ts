// Where `lab plan -o FILE` writes and what a saved plan is checked against: the project's
// files that shape the wanted state (docs/adr/0022-saved-plans.md).
import { readFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { CONFIG_FILE } from "../config/project-config.ts";
import { planJson, sourceDigests, type SavedPlan } from "../engine/saved-plan.ts";

export const LAB_VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/** sha256 of every file of the inventory, playbooks/, roles/, templates/, backups/ (not reports), the config and the secrets file. */
export function projectSources(opts: { root: string; inventory: string; playbook: string }): Record<string, string> {
  const r = opts.root;
  return sourceDigests(r, [
    opts.inventory,
    opts.playbook,
    join(r, "playbooks"),
    join(r, "roles"),
    join(r, "templates"),
    join(r, "backups"),
    join(r, CONFIG_FILE),
    process.env.LAB_SECRETS_FILE ? resolve(r, process.env.LAB_SECRETS_FILE) : join(r, "secrets.age"),
  ]);
}

/** Written whole or not at all, readable by its owner only (it holds the -e values). */
export async function writePlanFile(file: string, plan: SavedPlan): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, planJson(plan), { mode: 0o600 });
  await rename(tmp, file);
}
