// demo-database: the example lab's data on its PostgreSQL host — a small wiki
// (tables page and revision) loaded once from templates/postgres/demo-seed.sql.njk,
// so `lab backup` has WAL to archive and `lab drill` real tables to checksum.
import { Type, command, defineRole, directory, file, sh } from "lab";

const SEED = "/var/lib/lab/demo-seed.sql";

export const demoDatabase = defineRole({
  name: "demo-database",
  vars: Type.Object(
    {
      /** The cluster's port (the postgres role's). */
      port: Type.Integer({ minimum: 1, maximum: 65535 }),
    },
    { additionalProperties: false },
  ),
  resources: (v, _host, lab) => {
    // From / : runuser keeps the working directory, which postgres may not be allowed to read.
    const psql = (args: string) =>
      `cd / && runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 ${sh`-p ${String(v.port)}`} ${args}`;
    return [
      directory({ path: "/var/lib/lab", mode: "0755" }),
      file({ path: SEED, content: lab.template("postgres/demo-seed.sql.njk", {}), mode: "0644" }),
      command({
        command: psql(sh`-f ${SEED}`),
        unless: psql(sh`-d wiki -c ${"select 1 from revision limit 1"}`) + " | grep -qx 1",
        description: `load the demo wiki (${SEED}) into database wiki`,
      }),
    ];
  },
});
