// Containers of a Compose project, as the Docker engine reports them (`docker
// inspect`): the same for Compose v1 and v2, which both label what they create.
// Only what lab needs is kept: never the environment (it may hold secrets).
import { sh } from "../../sh.ts";

export interface ContainerState {
  id: string;
  name: string;
  service: string;
  /** com.docker.compose.config-hash: what `config --hash` printed when it was created. */
  configHash: string;
  /** Image id ("sha256:..."). */
  image: string;
  /** created | running | paused | restarting | removing | exited | dead */
  status: string;
  /** starting | healthy | unhealthy; absent when the service has no healthcheck. */
  health?: string;
  exitCode: number;
  /** Last health-check outputs, oldest first. */
  healthLog: string[];
}

/** Lists the project's containers and inspects them; prints "[]" when there are none. */
export const containersCommand = (project: string): string =>
  sh`ids=$(docker ps -aq --no-trunc --filter ${`label=com.docker.compose.project=${project}`}) || exit 3
if [ -n "$ids" ]; then docker inspect $ids; else echo '[]'; fi`;

interface Inspect {
  Id?: string;
  Name?: string;
  Image?: string;
  Config?: { Labels?: Record<string, string> | null };
  State?: { Status?: string; ExitCode?: number; Health?: { Status?: string; Log?: { Output?: string }[] | null } };
}

export function parseContainers(json: string): ContainerState[] {
  const list = JSON.parse(json.trim() || "[]") as Inspect[];
  return list
    .filter((c) => c.Config?.Labels?.["com.docker.compose.oneoff"] !== "True")
    .map((c): ContainerState => {
      const labels = c.Config?.Labels ?? {};
      const health = c.State?.Health;
      return {
        id: c.Id ?? "",
        name: (c.Name ?? "").replace(/^\//, ""),
        service: labels["com.docker.compose.service"] ?? "",
        configHash: labels["com.docker.compose.config-hash"] ?? "",
        image: c.Image ?? "",
        status: c.State?.Status ?? "unknown",
        ...(health?.Status ? { health: health.Status } : {}),
        exitCode: c.State?.ExitCode ?? 0,
        healthLog: (health?.Log ?? []).map((l) => (l.Output ?? "").trim()).filter(Boolean),
      };
    })
    .sort((a, b) => a.service.localeCompare(b.service) || a.name.localeCompare(b.name));
}

export type Readiness = { ready: true; what: string } | { ready: false; failed: boolean; what: string };

/** Is this container where `up` should leave it: healthy if it has a healthcheck, else running. */
export function readiness(c: ContainerState): Readiness {
  if (c.status === "running") {
    if (c.health === undefined) return { ready: true, what: "running" };
    if (c.health === "healthy") return { ready: true, what: "healthy" };
    if (c.health === "unhealthy") return { ready: false, failed: true, what: "unhealthy" };
    return { ready: false, failed: false, what: `health: ${c.health}` };
  }
  if (c.status === "exited" || c.status === "dead")
    return { ready: false, failed: true, what: `${c.status} (exit code ${c.exitCode})` };
  if (c.status === "restarting")
    return { ready: false, failed: true, what: `restarting (exited with code ${c.exitCode})` };
  return { ready: false, failed: false, what: c.status };
}

/**
 * Undo what an interrupted Compose v1 recreate leaves behind (lab killed mid-`up`): v1 renames the old
 * container to `<12 hex>_<name>` before creating the new one, and the next `up` then fails ("Renaming a
 * container with the same name as its current name"). Containers still being removed are waited for; a
 * renamed one is renamed back when its name is free (it keeps its anonymous volumes), else removed (the
 * new container exists). Prints one line per repair on stderr; harmless when there is nothing to repair.
 */
export const repairRecreateCommand = (project: string): string => {
  const label = `label=com.docker.compose.project=${project}`;
  return sh`i=0
while [ "$i" -lt 30 ] && [ -n "$(docker ps -aq --filter ${label} --filter status=removing)" ]; do sleep 1; i=$((i+1)); done
docker ps -a --filter ${label} --format '{{.ID}} {{.Names}}' | while read -r id name; do
  case "$name" in
    [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]_*)
      orig=$(printf '%s' "$name" | cut -d_ -f2-)
      if docker inspect --type container -- "$orig" >/dev/null 2>&1; then
        docker rm -f -- "$id" >/dev/null && echo "lab: removed $name, left by an interrupted recreate" >&2
      else
        docker rename -- "$id" "$orig" && echo "lab: renamed $name back to $orig, left by an interrupted recreate" >&2
      fi ;;
  esac
done`;
};
