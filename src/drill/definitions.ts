// What `lab drill` restores, per PostgreSQL target: derived from the backup policy
// (every repository, the offsite one always), with the overrides of
// backups/drills.yaml validated like the policy (file:line:col, exit 2, nothing
// contacted).
import { Ajv } from "ajv";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { PgPolicy, PgRepo, BackupPolicy } from "../backup/policy.ts";
import { badInput } from "../errors.ts";
import type { Inventory } from "../inventory/inventory.ts";
import { schemaError } from "../inventory/validate.ts";
import { readYaml, type YamlSource } from "../inventory/yaml-source.ts";
import { DrillsFile, type SmokeQuery } from "./model.ts";
import { resolveVmDrills, type VmDrillDef } from "./vm-definitions.ts";

const validateFile = new Ajv({ allErrors: true, strict: false, verbose: true }).compile<DrillsFile>(DrillsFile);

export const DEFAULT_DRILLS_FILE = "backups/drills.yaml";
export const DEFAULT_SCRATCH_PORT = 55432;

/** One restore of a drill: to the marker, or to the newest archived point. */
export interface PlannedRestore {
  readonly repo: PgRepo;
  readonly to: "marker" | "latest";
}

export interface PgDrillDef {
  readonly target: PgPolicy;
  readonly database: string;
  /** Qualified tables to checksum; undefined: every user table of the database. */
  readonly tables?: readonly string[];
  readonly smoke: readonly SmokeQuery[];
  readonly scratchHost: string;
  readonly scratchPort: number;
  readonly restores: readonly PlannedRestore[];
}

/** The repository that survives the database host: the first on another host (else the last listed). */
export const offsiteOf = (repos: readonly PgRepo[]): PgRepo =>
  repos.find((r) => r.host !== undefined) ?? repos[repos.length - 1]!;

/**
 * The restores: the latest point from the offsite repository (encrypted, its key
 * proven), the marker from every other one; a single repository does both.
 */
export function planRestores(repos: readonly PgRepo[]): PlannedRestore[] {
  const offsite = offsiteOf(repos);
  const others = repos.filter((r) => r !== offsite);
  if (!others.length)
    return [
      { repo: offsite, to: "marker" },
      { repo: offsite, to: "latest" },
    ];
  return [...others.map((repo) => ({ repo, to: "marker" as const })), { repo: offsite, to: "latest" }];
}

/** Every drill of the policy: PostgreSQL and VM targets, with backups/drills.yaml's settings. */
export async function loadDrills(opts: {
  root: string;
  file?: string;
  policy: BackupPolicy;
  inventory: Pick<Inventory, "hosts" | "lab">;
}): Promise<{ postgres: PgDrillDef[]; vms: VmDrillDef[] }> {
  const file = opts.file ?? join(opts.root, DEFAULT_DRILLS_FILE);
  if (!existsSync(file) && opts.file)
    throw badInput(
      `drill definitions not found: ${file}`,
      { file },
      "pass an existing file, or leave --drills out to use backups/drills.yaml",
    );
  const src = existsSync(file) ? await readYaml(file) : undefined;
  return {
    postgres: resolveDrills(src, opts.policy, opts.inventory),
    vms: resolveVmDrills(validDrills(src), drillsFail(src), opts.policy, opts.inventory),
  };
}

/** The file's data, schema-checked (file:line:col of the deepest error); {} without a file. */
export function validDrills(src: YamlSource | undefined): DrillsFile {
  if (!src) return {};
  if (!validateFile(src.data)) {
    const err = [...(validateFile.errors ?? [])].sort((a, b) => b.instancePath.length - a.instancePath.length)[0];
    throw err ? schemaError(src, err) : badInput("invalid drill definitions", { file: src.file });
  }
  return src.data;
}

/** A bad-input error at a path of the drills file (its key for a whole entry). */
export function drillsFail(src: YamlSource | undefined) {
  return (path: (string | number)[], message: string, hint: string): never => {
    throw badInput(
      message,
      src ? { file: src.file, ...src.position(path, path.length === 2 ? "key" : "value") } : {},
      hint,
    );
  };
}

export function resolveDrills(
  src: YamlSource | undefined,
  policy: BackupPolicy,
  inv: Pick<Inventory, "hosts">,
): PgDrillDef[] {
  const data = validDrills(src);
  const fail = drillsFail(src);
  const overrides = data.postgres ?? {};
  for (const name of Object.keys(overrides)) {
    if (!policy.postgres.some((t) => t.name === name))
      fail(
        ["postgres", name],
        `drill for "${name}": no such PostgreSQL target in the backup policy`,
        `PostgreSQL targets: ${policy.postgres.map((t) => t.name).join(", ") || "(none)"}`,
      );
  }
  return policy.postgres.map((target): PgDrillDef => {
    const o = overrides[target.name] ?? {};
    let repos = target.repositories;
    if (o.repositories) {
      repos = o.repositories.map(
        (name, i) =>
          target.repositories.find((r) => r.name === name) ??
          fail(
            ["postgres", target.name, "repositories", i],
            `drill for ${target.name}: unknown repository "${name}"`,
            `repositories of ${target.name}: ${target.repositories.map((r) => r.name).join(", ")}`,
          ),
      );
      const offsite = offsiteOf(target.repositories);
      if (!repos.includes(offsite))
        fail(
          ["postgres", target.name, "repositories"],
          `drill for ${target.name} leaves out the offsite repository ${offsite.name}`,
          "a drill always restores from the offsite repository (it proves the encrypted copy and its key): add it",
        );
    }
    const scratchHost = o.scratch?.host ?? target.host;
    if (!inv.hosts.has(scratchHost))
      fail(
        ["postgres", target.name, "scratch", "host"],
        `drill for ${target.name}: scratch host "${scratchHost}" is not in the inventory`,
        `inventory hosts: ${[...inv.hosts.keys()].join(", ")}`,
      );
    const tables = o.tables?.map((t) => (t.includes(".") ? t : `public.${t}`));
    return {
      target,
      database: o.database ?? "postgres",
      ...(tables ? { tables } : {}),
      smoke: o.smoke ?? [],
      scratchHost,
      scratchPort: o.scratch?.port ?? DEFAULT_SCRATCH_PORT,
      restores: planRestores(repos),
    };
  });
}
