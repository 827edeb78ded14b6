// Scratch resources of a drill, all under one lab-owned prefix on a host, each
// directory holding a marker file that names the drill run: that marking is how
// cleanup finds (and only ever removes) what a drill made, including the
// leftovers of a crashed one. Nothing outside the prefix is ever removed.
import { sh } from "../sh.ts";

export const SCRATCH_PREFIX = "/var/lib/lab-drill";
export const MARK_FILE = "lab-drill-run";

/** A PostgreSQL copy restored for a drill: its own data dir, Unix socket dir (no TCP), port. */
export interface ScratchCluster {
  readonly host: string;
  readonly dir: string;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly port: number;
  /** PostgreSQL's binaries (pg_ctl, psql, pg_amcheck) of the target's major version. */
  readonly bin: string;
}

export const pgBin = (cluster: string) => `/usr/lib/postgresql/${cluster.split("/")[0]}/bin`;

export function scratchCluster(
  host: string,
  run: string,
  label: string,
  port: number,
  cluster: string,
): ScratchCluster {
  const dir = `${SCRATCH_PREFIX}/${run}-${label}`;
  return { host, dir, dataDir: `${dir}/data`, socketDir: `${dir}/run`, port, bin: pgBin(cluster) };
}

/** Make a marked directory owned by postgres (0700): the marker file is written first, so a crash right after leaves it findable. */
export function makeScratchDir(dir: string, run: string, what: string, subdirs: readonly string[] = []): string {
  const mark = `${dir}/${MARK_FILE}`;
  return [
    sh`install -d -m 0755 ${SCRATCH_PREFIX}`,
    sh`install -d -m 0700 -o postgres -g postgres ${dir}`,
    sh`printf '%s\n' ${`run=${run}`} ${`what=${what}`} ${`created=${new Date().toISOString()}`} > ${mark}`,
    ...subdirs.map((d) => sh`install -d -m 0700 -o postgres -g postgres ${`${dir}/${d}`}`),
  ].join(" && ");
}

/** postgresql.conf + pg_hba.conf of a copy: socket only, archiving off, small memory; the restored auto.conf adds recovery settings. */
export function copyConfig(c: ScratchCluster): string {
  const conf = [
    "# lab drill scratch copy: never a production server",
    `port = ${c.port}`,
    "listen_addresses = ''",
    `unix_socket_directories = '${c.socketDir}'`,
    "archive_mode = off",
    // max_connections & co. stay the primary's: hot standby refuses lower values.
    "shared_buffers = 32MB",
    "wal_level = replica",
    "hot_standby = on",
    "logging_collector = off",
    "",
  ].join("\n");
  const hba = "local all all peer\n";
  return [
    sh`printf '%s' ${conf} > ${`${c.dataDir}/postgresql.conf`}`,
    sh`printf '%s' ${hba} > ${`${c.dataDir}/pg_hba.conf`}`,
    sh`chown postgres:postgres ${`${c.dataDir}/postgresql.conf`} ${`${c.dataDir}/pg_hba.conf`}`,
  ].join(" && ");
}
