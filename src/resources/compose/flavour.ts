// Which Compose a host has: v2 (`docker compose`, or a v2 `docker-compose`
// binary) or v1 (`docker-compose` 1.x, Debian 12's 1.29.2). A fact, so it is
// detected once per host and run; every compose command is built from it.
import type { Fact } from "../../engine/types.ts";
import { ExitCode, LabError } from "../../errors.ts";
import { raw, sh } from "../../sh.ts";

export interface ComposeFlavour {
  kind: "v1" | "v2" | "none";
  /** "docker compose" (v2 plugin) or "docker-compose" (v1, or a standalone v2 binary). */
  command: "docker compose" | "docker-compose" | "";
  /** As printed by `version --short` without a leading "v": "1.29.2", "2.24.5". */
  version: string;
}

export const composeFact: Fact<ComposeFlavour> = {
  key: "compose:flavour",
  command: `if v=$(docker compose version --short 2>/dev/null); then echo "plugin $v"
elif v=$(docker-compose version --short 2>/dev/null); then echo "standalone $v"
else echo none; fi`,
  parse: parseFlavour,
};

export function parseFlavour(stdout: string): ComposeFlavour {
  const [how = "none", version = ""] = stdout.trim().split(/\s+/);
  const v = version.replace(/^v/, "");
  if (how === "plugin") return { kind: "v2", command: "docker compose", version: v };
  if (how === "standalone") return { kind: v.startsWith("1.") ? "v1" : "v2", command: "docker-compose", version: v };
  return { kind: "none", command: "", version: "" };
}

export interface ProjectRef {
  /** Compose project name (`-p`). */
  project: string;
  /** Directory holding compose.yaml; also the project directory (relative paths, env_file). */
  dir: string;
}

/** `docker compose -p P -f DIR/compose.yaml --project-directory DIR ARGS...` (args are quoted). */
export function composeCommand(f: ComposeFlavour, ref: ProjectRef, args: readonly string[]): string {
  if (f.kind === "none") throw noCompose();
  return sh`${raw(f.command)} -p ${ref.project} -f ${`${ref.dir}/compose.yaml`} --project-directory ${ref.dir} ${args}`;
}

/** Like composeCommand, with the directory given as a shell expression ("$T"): for scripts that make the directory. */
export function composeIn(f: ComposeFlavour, project: string, dirExpr: string, args: readonly string[]): string {
  if (f.kind === "none") throw noCompose();
  return `${f.command} ${sh`-p ${project}`} -f "${dirExpr}/compose.yaml" --project-directory "${dirExpr}" ${sh`${args}`}`;
}

export const noCompose = (host?: string): LabError =>
  new LabError(
    "neither `docker compose` (v2) nor `docker-compose` (v1) works on this host",
    ExitCode.failed,
    host ? { host } : {},
    "apply the docker-host role first (it installs docker.io and docker-compose), and check that the Docker engine answers (`docker info`)",
  );
