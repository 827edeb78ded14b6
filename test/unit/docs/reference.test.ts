// docs/reference/ is generated from the code (npm run gen:docs): the committed
// files must be exactly what the generator writes today.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { referenceFiles } from "../../../scripts/gen-reference.ts";

const dir = join(import.meta.dirname, "../../../docs/reference");

it("docs/reference is up to date with the code (run npm run gen:docs)", async () => {
  const want = await referenceFiles();
  expect(readdirSync(dir).sort()).toEqual([...want.keys()].sort());
  for (const [name, text] of want) expect(readFileSync(join(dir, name), "utf8"), `docs/reference/${name}`).toBe(text);
}, 30_000);

it("the reference names every command, exit code and role the code defines", async () => {
  const files = await referenceFiles();
  const cli = files.get("cli.md")!;
  for (const c of [
    "lab plan",
    "lab apply",
    "lab backup verify",
    "lab backup prune-preview",
    "lab drill",
    "lab import ansible",
    "lab secrets rekey",
  ])
    expect(cli).toContain(`## \`${c}\``);
  expect(cli).toContain("`--detailed-exitcode`");
  expect(files.get("exit-codes.md")).toMatch(/\| 7 \| `drillFailed` \| `lab drill`: at least one drill failed/);
  const roles = files.get("roles.md")!;
  for (const r of ["base", "docker-host", "postgres", "pgbackrest", "pbs-backup", "proxmox-lab"])
    expect(roles).toContain(`## ${r} (`);
  expect(roles).toMatch(/\| `logMaxSize` \| string \| yes \| `"10m"` \|/);
  expect(files.get("inventory.md")).toContain("## `vlans.<name>`");
}, 30_000);
