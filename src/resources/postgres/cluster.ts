// postgresCluster: a Debian PostgreSQL cluster (pg_createcluster) that exists
// WITH data checksums. A cluster found without them is refused, never silently
// accepted: checksums are what lets pgBackRest (and `verify`) detect torn or
// flipped pages in a backup.
import { valueChange } from "../attrs-diff.ts";
import type { Fact, Resource } from "../../engine/types.ts";
import { ExitCode, LabError, badInput } from "../../errors.ts";
import { sh } from "../../sh.ts";
import type { ResourceOptions } from "../file.ts";
import { run } from "../run.ts";
import { withFact } from "../with-fact.ts";

export interface ClusterWant {
  /** Major version, e.g. 15. */
  version: number;
  /** Cluster name, e.g. "main". */
  name: string;
  port: number;
}

export interface ClusterState {
  /** postgresql-common's tools are installed (pg_lsclusters). */
  tools: boolean;
  exists: boolean;
  port?: number;
  status?: string;
  dataDir?: string;
  /** "Data page checksum version" of pg_controldata: 0 = no checksums. */
  checksumVersion?: number;
}

export const checkCluster = (w: { version: number; name: string }): void => {
  if (!Number.isInteger(w.version) || w.version < 9)
    throw badInput(`postgres cluster: invalid version ${String(w.version)}`);
  if (!/^[a-z0-9_-]+$/.test(w.name))
    throw badInput(
      `postgres cluster: invalid name ${JSON.stringify(w.name)}`,
      {},
      "use lowercase letters, digits, _ and -",
    );
};

/** pg_lsclusters' line for the cluster (Ver Cluster Port Status Owner Datadir Logfile) and its checksum version. */
export function clusterFact(version: number, name: string): Fact<ClusterState> {
  return {
    key: `pg-cluster:${version}/${name}`,
    command: sh`v=${version} c=${name}
command -v pg_lsclusters >/dev/null || { echo no-tools; exit 0; }
line=$(pg_lsclusters -h 2>/dev/null | awk -v v="$v" -v c="$c" '$1 == v && $2 == c')
[ -n "$line" ] || { echo absent; exit 0; }
echo "$line"
d=$(echo "$line" | awk '{print $6}')
"/usr/lib/postgresql/$v/bin/pg_controldata" "$d" 2>/dev/null | sed -n 's/^Data page checksum version: *//p'`,
    parse: parseCluster,
  };
}

export function parseCluster(out: string): ClusterState {
  const [line = "", sums = ""] = out.trim().split("\n");
  if (line === "no-tools") return { tools: false, exists: false };
  if (line === "absent" || line === "") return { tools: true, exists: false };
  const f = line.trim().split(/\s+/);
  return {
    tools: true,
    exists: true,
    port: Number(f[2]),
    status: f[3],
    dataDir: f[5],
    ...(sums.trim() ? { checksumVersion: Number(sums.trim()) } : {}),
  };
}

export function postgresCluster(want: ClusterWant, opts: ResourceOptions = {}): Resource<ClusterWant, ClusterState> {
  checkCluster(want);
  const fact = clusterFact(want.version, want.name);
  const label = `${want.version}/${want.name}`;
  return withFact(fact, {
    id: `pg-cluster:${label}`,
    want,
    ...opts,
    diff(w, have) {
      if (!have.exists)
        return [
          valueChange(
            "create",
            `create cluster ${label} on port ${w.port} with data checksums (pg_createcluster)`,
            null,
            { version: w.version, name: w.name, port: w.port, dataChecksums: true },
          ),
        ];
      if (have.checksumVersion === undefined)
        throw new LabError(
          `cluster ${label}: cannot read its checksum setting (pg_controldata ${have.dataDir ?? "?"})`,
          ExitCode.failed,
          {},
          "check that postgresql-" + String(w.version) + " is installed and the data directory is intact",
        );
      if (have.checksumVersion === 0) {
        throw new LabError(
          `cluster ${label} exists WITHOUT data checksums (${have.dataDir ?? "?"}): lab will not back it up silently unprotected`,
          ExitCode.failed,
          {},
          `stop it (pg_ctlcluster ${w.version} ${w.name} stop), run /usr/lib/postgresql/${w.version}/bin/pg_checksums --enable -D ${have.dataDir ?? "DATADIR"} as postgres (offline, rewrites every page), start it, apply again`,
        );
      }
      return [];
    },
    async apply(ctx) {
      await run(
        ctx,
        sh`pg_createcluster ${want.version} ${want.name} -p ${want.port} -- --data-checksums`,
        `pg_createcluster ${label}`,
      );
      // It writes the cluster's config files, which later steps read.
      ctx.facts.invalidate();
    },
    ok: (have) =>
      `exists (${have.dataDir ?? "?"}, ${have.status ?? "?"}), data checksums on (version ${have.checksumVersion ?? "?"})`,
  });
}
