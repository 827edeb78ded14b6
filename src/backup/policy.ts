// Load backups/policy.yaml: validated against the policy model with the same error
// quality as the inventory (file:line:col, exit 2, nothing contacted), defaults
// applied, and every name checked against the inventory (hosts, VMs, tags, endpoints).
import { Ajv } from "ajv";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { badInput } from "../errors.ts";
import type { Inventory } from "../inventory/inventory.ts";
import { schemaError } from "../inventory/validate.ts";
import { readYaml, type YamlSource } from "../inventory/yaml-source.ts";
import { parseDuration } from "./duration.ts";
import { PolicyFile, type PbsRetention, type PgTarget, type VmTarget } from "./policy-model.ts";

const validateFile = new Ajv({ allErrors: true, strict: false, verbose: true }).compile<PolicyFile>(PolicyFile);

type Path = (string | number)[];
type Position = { file: string; line: number; col: number };

interface Common {
  readonly name: string;
  readonly rpoSec: number;
  readonly rtoSec: number;
  readonly drillEverySec: number;
  readonly timezone: string;
}

export interface PgRepo {
  readonly name: string;
  readonly index: number;
  /** Inventory host of a repository host; absent: on the database host. */
  readonly host?: string;
  readonly path: string;
  /** Who runs pgBackRest for this repository, on its host (postgres on the database host). */
  readonly user: string;
  readonly encryptionKey?: string;
  readonly retention: { readonly full: number; readonly diff?: number };
}

export interface PgPolicy extends Common {
  readonly kind: "postgres";
  readonly host: string;
  readonly cluster: string;
  readonly stanza: string;
  readonly schedule: PgTarget["schedule"];
  readonly repositories: readonly PgRepo[];
  readonly acceptWalLoss: boolean;
}

export interface VmPolicy extends Common {
  readonly kind: "vm";
  /** VM names (a tag is expanded against the inventory). */
  readonly vms: readonly string[];
  readonly selector: VmTarget["select"];
  readonly endpoint: string;
  readonly pbs: string;
  readonly datastore: string;
  readonly storage: string;
  readonly schedule: string;
  readonly mode: "snapshot" | "suspend" | "stop";
  readonly retention: PbsRetention;
  readonly encryptionKey?: string;
  readonly offsite?: VmTarget["offsite"];
  readonly verify?: VmTarget["verify"];
}

export type TargetPolicy = PgPolicy | VmPolicy;

export interface BackupPolicy {
  /** The policy file, or undefined when the project has none. */
  readonly file: string | undefined;
  readonly postgres: readonly PgPolicy[];
  readonly vms: readonly VmPolicy[];
  readonly targets: readonly TargetPolicy[];
  where(path: Path): Position | undefined;
}

export const DEFAULT_POLICY_FILE = "backups/policy.yaml";

/** A project without backups/policy.yaml. */
export const NO_POLICY: BackupPolicy = { file: undefined, postgres: [], vms: [], targets: [], where: () => undefined };
const DEFAULT_RTO = "2h";
const DEFAULT_DRILL_EVERY = "90d";
const DEFAULT_REPO_PATH = "/var/lib/pgbackrest";

export async function loadPolicy(opts: {
  root: string;
  file?: string;
  inventory: Pick<Inventory, "hosts" | "lab">;
}): Promise<BackupPolicy> {
  const file = opts.file ?? join(opts.root, DEFAULT_POLICY_FILE);
  if (!existsSync(file)) {
    if (opts.file)
      throw badInput(
        `backup policy not found: ${file}`,
        { file },
        "pass an existing file, or create backups/policy.yaml",
      );
    return NO_POLICY;
  }
  return resolvePolicy(await readYaml(file), opts.inventory);
}

export function resolvePolicy(src: YamlSource, inv: Pick<Inventory, "hosts" | "lab">): BackupPolicy {
  if (!validateFile(src.data)) {
    const err = [...(validateFile.errors ?? [])].sort((a, b) => b.instancePath.length - a.instancePath.length)[0];
    throw err ? schemaError(src, err) : badInput("invalid backup policy", { file: src.file });
  }
  const data = src.data;
  // A whole target is pointed at by its name; anything inside it by its value.
  const at = (path: Path) => ({ file: src.file, ...src.position(path, path.length === 2 ? "key" : "value") });
  const fail = (path: Path, message: string, hint: string): never => {
    throw badInput(message, at(path), hint);
  };
  const names = (xs: Iterable<string>) => [...xs].join(", ") || "(none)";
  const d = data.defaults ?? {};
  const timezone = d.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
  } catch {
    fail(["defaults", "timezone"], `unknown time zone "${timezone}"`, "use an IANA zone such as Europe/Berlin or UTC");
  }
  const common = (section: string, name: string, t: { rpo?: string; rto?: string; drill_every?: string }): Common => {
    const rpo = t.rpo ?? d.rpo;
    if (!rpo) fail([section, name], `target ${name} has no rpo`, "set rpo: on the target or under defaults:");
    return {
      name,
      timezone,
      rpoSec: parseDuration(rpo!)!,
      rtoSec: parseDuration(t.rto ?? d.rto ?? DEFAULT_RTO)!,
      drillEverySec: parseDuration(t.drill_every ?? d.drill_every ?? DEFAULT_DRILL_EVERY)!,
    };
  };
  const hostMust = (path: Path, host: string, what: string) => {
    if (!inv.hosts.has(host))
      fail(path, `${what}: host "${host}" is not in the inventory`, `inventory hosts: ${names(inv.hosts.keys())}`);
  };

  const seen = new Map<string, string>();
  const unique = (section: string, name: string) => {
    const other = seen.get(name);
    if (other)
      fail(
        [section, name],
        `target name "${name}" is used twice (also under ${other}:)`,
        "give every target its own name: reports and metrics are keyed by it",
      );
    seen.set(name, section);
  };

  const postgres = Object.entries(data.postgres ?? {}).map(([name, t]): PgPolicy => {
    unique("postgres", name);
    hostMust(["postgres", name, "host"], t.host, `postgres target ${name}`);
    const repositories = Object.entries(t.repositories).map(([rname, r]): PgRepo => {
      if (r.host !== undefined)
        hostMust(["postgres", name, "repositories", rname, "host"], r.host, `repository ${rname} of ${name}`);
      if (r.host === t.host)
        fail(
          ["postgres", name, "repositories", rname, "host"],
          `repository ${rname} of ${name} is on the database host itself`,
          "leave host: out for a repository on the database host; a repository host is another machine",
        );
      return {
        name: rname,
        index: r.repo,
        path: r.path ?? DEFAULT_REPO_PATH,
        user: r.host !== undefined ? (r.user ?? "pgbackrest") : "postgres",
        ...(r.host !== undefined ? { host: r.host } : {}),
        ...(r.encryption_key !== undefined ? { encryptionKey: r.encryption_key } : {}),
        retention: r.retention ?? { full: 2 },
      };
    });
    const byIndex = new Map<number, string>();
    for (const r of repositories) {
      if (byIndex.has(r.index))
        fail(
          ["postgres", name, "repositories", r.name, "repo"],
          `repositories ${byIndex.get(r.index)} and ${r.name} of ${name} both use repo ${r.index}`,
          "give each repository its own index (repo: 1, repo: 2)",
        );
      byIndex.set(r.index, r.name);
    }
    return {
      kind: "postgres",
      ...common("postgres", name, t),
      host: t.host,
      cluster: t.cluster ?? "15/main",
      stanza: t.stanza ?? name,
      schedule: t.schedule,
      repositories,
      acceptWalLoss: t.accept_wal_loss ?? false,
    };
  });

  const vms = Object.entries(data.vms ?? {}).map(([name, t]): VmPolicy => {
    unique("vms", name);
    if (!(t.pbs in inv.lab.pbs))
      fail(
        ["vms", name, "pbs"],
        `VM target ${name}: unknown PBS endpoint "${t.pbs}"`,
        `PBS endpoints (inventory pbs:): ${names(Object.keys(inv.lab.pbs))}`,
      );
    if (t.offsite?.datastore === t.datastore)
      fail(
        ["vms", name, "offsite", "datastore"],
        `VM target ${name}: the offsite datastore is the datastore itself`,
        "name a second datastore (on another disk or PBS) for the offsite copy",
      );
    if (!(t.endpoint in inv.lab.proxmox))
      fail(
        ["vms", name, "endpoint"],
        `VM target ${name}: unknown Proxmox endpoint "${t.endpoint}"`,
        `endpoints: ${names(Object.keys(inv.lab.proxmox))}`,
      );
    let list: string[];
    if ("vms" in t.select) {
      list = t.select.vms;
      for (const [i, vm] of list.entries()) {
        if (!(vm in inv.lab.vms))
          fail(
            ["vms", name, "select", "vms", i],
            `VM target ${name}: VM "${vm}" is not in the inventory's vms:`,
            `VMs: ${names(Object.keys(inv.lab.vms))}`,
          );
      }
    } else {
      const tag = t.select.tag;
      list = Object.entries(inv.lab.vms)
        .filter(([, v]) => (v.tags ?? []).includes(tag))
        .map(([n]) => n);
      if (list.length === 0)
        fail(
          ["vms", name, "select", "tag"],
          `VM target ${name}: no VM in the inventory has tag "${tag}"`,
          "tag the VMs (vms.NAME.tags) or fix the tag",
        );
    }
    return {
      kind: "vm",
      ...common("vms", name, t),
      vms: list.sort(),
      selector: t.select,
      endpoint: t.endpoint,
      pbs: t.pbs,
      datastore: t.datastore,
      storage: t.storage,
      schedule: t.schedule,
      mode: t.mode ?? "snapshot",
      retention: t.retention,
      ...(t.encryption_key !== undefined ? { encryptionKey: t.encryption_key } : {}),
      ...(t.offsite ? { offsite: t.offsite } : {}),
      ...(t.verify ? { verify: t.verify } : {}),
    };
  });

  return { file: src.file, postgres, vms, targets: [...postgres, ...vms], where: (path) => at(path) };
}

/** The Proxmox backup job and the PBS jobs lab keeps for a VM target (role pbs-backup; `lab backup --run` runs them). */
export const vmJobIds = (target: string) => ({ backup: `lab-${target}`, offsiteSync: `lab-${target}-offsite` });
