// The two-host PostgreSQL set-up that the backup, drill and pgBackRest tests and the
// backup bench share: real PostgreSQL 15 + pgBackRest 2.45 (the pg test image) on a
// database host db1 and a backup host backup1, a project with the caller's playbook
// (and policy), the role templates copied in, and secrets initialised with repo2's
// cipher pass. What each caller then applies and checks stays in its own file.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { startHosts, type TestLab } from "../hosts/hosts.ts";
import { REPO, inHost, makeProject, type ProjectOptions, type TestProject } from "./project.ts";

const IMAGE = "lab-testhost-pg:bookworm";
/** The templates the base, postgres and pgbackrest roles render. */
const TEMPLATES = [
  "motd.njk",
  "postgres/createcluster.conf.njk",
  "postgres/settings.conf.njk",
  "pgbackrest/db.conf.njk",
  "pgbackrest/repo.conf.njk",
];
/** The groups the policy plays run on (databases:backup_hosts). */
export const PAIR_GROUPS = { databases: { hosts: ["db1"] }, backup_hosts: { hosts: ["backup1"] } };

export interface PgPairOptions {
  /** Container prefix, loopback subnet (first three octets) and state folder of the two hosts. */
  prefix: string;
  subnet: string;
  stateDir: string;
  /** Project files besides the templates: playbooks/site.ts, backups/policy.yaml, ... */
  files: Record<string, string>;
  hosts?: ProjectOptions["hosts"];
  /** Default PAIR_GROUPS. */
  groups?: ProjectOptions["groups"];
  /** repo2's cipher pass, stored as the secret `cipherSecret` (default pgbackrest_repo2_cipher_pass). */
  cipherPass: string;
  cipherSecret?: string;
}

export interface PgPair {
  lab: TestLab;
  p: TestProject;
  /** The environment every `lab` run needs (the age key of the project's secrets). */
  env: Record<string, string>;
  container: (name: string) => string;
  /** A script inside a host; its trimmed stdout, or an error with its output. */
  on: (name: string, script: string) => Promise<string>;
}

const run = promisify(execFile);

export async function startPgPair(o: PgPairOptions): Promise<PgPair> {
  await run("bash", [join(REPO, "test/hosts/pg-image.sh")], { timeout: 900_000 });
  const lab = await startHosts({
    prefix: o.prefix,
    names: ["db1", "backup1"],
    subnet: o.subnet,
    stateDir: o.stateDir,
    image: IMAGE,
  });
  const templates = await Promise.all(
    TEMPLATES.map(async (t) => [`templates/${t}`, await readFile(join(REPO, "templates", t), "utf8")] as const),
  );
  const p = await makeProject(lab, {
    ...(o.hosts ? { hosts: o.hosts } : {}),
    groups: o.groups ?? PAIR_GROUPS,
    files: { ...o.files, ...Object.fromEntries(templates) },
  });
  const env = { LAB_AGE_KEY_FILE: join(p.root, "age.key") };
  for (const [args, stdin] of [
    [["secrets", "init"], undefined],
    [["secrets", "set", o.cipherSecret ?? "pgbackrest_repo2_cipher_pass"], `${o.cipherPass}\n`],
  ] as const) {
    const r = await p.lab([...args], { env, ...(stdin ? { stdin } : {}) });
    if (r.code !== 0) throw new Error(`lab ${args.join(" ")}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  }
  const container = (name: string) => lab.hosts.find((h) => h.name === name)!.container;
  const on = async (name: string, script: string) => {
    const r = await inHost(container(name), script);
    if (r.code !== 0) throw new Error(`${name}: ${script}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout.trim();
  };
  return { lab, p, env, container, on };
}
