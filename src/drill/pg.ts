// psql on the production cluster (Debian's wrapper, by cluster name) and on a
// scratch copy (its own socket directory and port), as the postgres user.
import { sh } from "../sh.ts";
import type { ScratchCluster } from "./scratch.ts";

const FLAGS = ["-XAtq", "-v", "ON_ERROR_STOP=1"];

/** psql connected to the production cluster; append `-c SQL` or `-f FILE`. */
export const psqlProdBase = (cluster: string, database: string): string =>
  sh`runuser -u postgres -- psql ${FLAGS} --cluster ${cluster} -d ${database}`;

export const psqlProd = (cluster: string, database: string, sql: string): string =>
  `${psqlProdBase(cluster, database)} ${sh`-c ${sql}`}`;

export const psqlCopy = (c: ScratchCluster, database: string, sql: string): string =>
  sh`runuser -u postgres -- ${`${c.bin}/psql`} ${FLAGS} -h ${c.socketDir} -p ${c.port} -d ${database} -c ${sql}`;
