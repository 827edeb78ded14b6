// The project config file (`lab.config.yaml` at the project root, docs/adr/0019-project-config.md):
// the defaults that would otherwise need flags or LAB_* variables. Declared once with
// TypeBox (JSON Schema for ajv + the TypeScript type), validated like the inventory
// (file:line:col, exit 2). Precedence: flag > environment > this file > built-in default.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { Type, type Static } from "@sinclair/typebox";
import { Ajv } from "ajv";
import { badInput } from "../errors.ts";
import { pickError, schemaError } from "../inventory/validate.ts";
import { readYaml } from "../inventory/yaml-source.ts";

export const CONFIG_FILE = "lab.config.yaml";

const path = (description: string) => Type.Optional(Type.String({ minLength: 1, description }));

export const ProjectConfig = Type.Object(
  {
    inventory: path("inventory file or folder (flag -i, env LAB_INVENTORY; default inventory/)"),
    secrets_file: path("age-encrypted secrets file (flag secrets --file, env LAB_SECRETS_FILE; default secrets.age)"),
    age_key_file: path("age secret key file (env LAB_AGE_KEY_FILE or LAB_AGE_KEY; default ~/.config/lab/age.key)"),
    known_hosts: path(
      "known_hosts for hosts whose inventory sets none (env LAB_KNOWN_HOSTS; default ~/.ssh/known_hosts)",
    ),
    ssh_config: path(
      "OpenSSH client config read for inventory hosts, or none (env LAB_SSH_CONFIG; default ~/.ssh/config; the inventory wins)",
    ),
    forks: Type.Optional(
      Type.Integer({ minimum: 1, description: "hosts in parallel (flag -f, env LAB_FORKS; default 10)" }),
    ),
    lock_timeout: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: "seconds to wait for another apply's lock (flag --lock-timeout, env LAB_LOCK_TIMEOUT; default 0)",
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "lab project config: defaults for flags and LAB_* variables; relative paths are relative to the project root",
  },
);
export type ProjectConfig = Static<typeof ProjectConfig>;

/** docs/schema/lab.config.schema.json (`npm run gen:schema`): for editors, via the file's yaml-language-server modeline. */
export const projectConfigSchemaJson = (): string =>
  `${JSON.stringify({ $schema: "http://json-schema.org/draft-07/schema#", title: CONFIG_FILE, ...ProjectConfig }, null, 2)}\n`;

const validate = new Ajv({ allErrors: true, strict: false, verbose: true }).compile<ProjectConfig>(ProjectConfig);

export interface LoadedConfig {
  /** The file read; undefined when the project has none. */
  file?: string;
  /** Paths already resolved against the project root. */
  config: ProjectConfig;
}

export async function loadProjectConfig(root: string): Promise<LoadedConfig> {
  const file = join(root, CONFIG_FILE);
  if (!existsSync(file)) return { config: {} };
  const src = await readYaml(file, `check ${CONFIG_FILE}`);
  if (!validate(src.data)) {
    const err = pickError(validate.errors ?? []);
    const e = err ? schemaError(src, err) : badInput(`invalid ${CONFIG_FILE}`, { file });
    throw badInput(
      e.message,
      e.where,
      `keys: ${Object.keys(ProjectConfig.properties).join(", ")} (README "Project config")`,
    );
  }
  const abs = (p: string | undefined) =>
    p === undefined ? undefined : resolve(root, p.replace(/^~(?=\/|$)/, homedir()));
  const c = src.data;
  const config: ProjectConfig = { ...c };
  for (const k of ["inventory", "secrets_file", "age_key_file", "known_hosts", "ssh_config"] as const)
    if (c[k] !== undefined && !(k === "ssh_config" && c[k] === "none")) config[k] = abs(c[k]);
  return { file, config };
}

/** Which LAB_* variable each config key stands in for. */
const ENV_OF = {
  inventory: "LAB_INVENTORY",
  secrets_file: "LAB_SECRETS_FILE",
  age_key_file: "LAB_AGE_KEY_FILE",
  known_hosts: "LAB_KNOWN_HOSTS",
  ssh_config: "LAB_SSH_CONFIG",
  forks: "LAB_FORKS",
  lock_timeout: "LAB_LOCK_TIMEOUT",
} as const;

/**
 * The config's values as the LAB_* variables that are not already set (the environment
 * wins). `age_key_file` also yields to LAB_AGE_KEY (a key given directly).
 */
export function configEnv(config: ProjectConfig, env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, name] of Object.entries(ENV_OF) as [keyof ProjectConfig, string][]) {
    const v = config[key];
    if (v === undefined || env[name] !== undefined) continue;
    if (key === "age_key_file" && env.LAB_AGE_KEY) continue;
    out[name] = String(v);
  }
  return out;
}
