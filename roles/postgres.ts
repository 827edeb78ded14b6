// postgres: PostgreSQL from Debian's packages, one cluster created WITH data
// checksums (an existing cluster without them is refused, with what to do),
// settings in conf.d/lab.conf, and the server running with those settings in
// effect (checked in pg_settings; reloaded or restarted when they are not).
// No systemd is assumed: pg_ctlcluster starts the cluster (it hands over to
// systemd itself on hosts that run it).
import { Type, defineRole, directory, file, line, packages, type Static, postgresCluster, postgresRunning } from "lab";

export const PostgresVars = Type.Object(
  {
    /** Major version: the Debian package postgresql-VERSION (15 on Debian 12). */
    version: Type.Integer({
      minimum: 10,
      maximum: 99,
      description: "Major version: the Debian package postgresql-VERSION (15 on Debian 12).",
    }),
    /** Cluster name (pg_lsclusters), usually "main". */
    cluster: Type.String({ pattern: "^[a-z0-9_-]+$", description: "Cluster name (pg_lsclusters), usually main." }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    /** listen_addresses ("localhost", an address, or "" for the Unix socket only). */
    listenAddresses: Type.String({
      pattern: "^[^'\\n]*$",
      description: "listen_addresses (localhost, an address, or empty for the Unix socket only).",
    }),
    /** More settings, as pg_settings shows them (base units: "60" for 60 s). */
    settings: Type.Record(Type.String({ pattern: "^[a-z_][a-z0-9_.]*$" }), Type.String({ pattern: "^[^\\n]*$" }), {
      additionalProperties: false,
      description: "More settings, as pg_settings shows them (base units).",
    }),
  },
  { additionalProperties: false },
);
export type PostgresVars = Static<typeof PostgresVars>;

export const postgresDefaults: PostgresVars = {
  version: 15,
  cluster: "main",
  port: 5432,
  listenAddresses: "localhost",
  settings: {},
};

export const clusterPaths = (v: { version: number; cluster: string }) => ({
  conf: `/etc/postgresql/${v.version}/${v.cluster}`,
  data: `/var/lib/postgresql/${v.version}/${v.cluster}`,
});

/** Settings sorted by name (the rendered file does not change with the order they were given in). */
export const sortedSettings = (s: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(s).sort(([a], [b]) => a.localeCompare(b)));

export const postgres = defineRole({
  name: "postgres",
  vars: PostgresVars,
  resources: (v, _host, lab) => {
    const p = clusterPaths(v);
    const settings = sortedSettings({ ...v.settings, listen_addresses: v.listenAddresses, port: String(v.port) });
    return [
      // Before the package: its postinst would otherwise create a cluster without checksums.
      directory({ path: "/etc/postgresql-common", mode: "0755" }),
      file({
        path: "/etc/postgresql-common/createcluster.conf",
        content: lab.template("postgres/createcluster.conf.njk", { version: v.version }),
        mode: "0644",
      }),
      packages({ names: [`postgresql-${v.version}`] }),
      postgresCluster({ version: v.version, name: v.cluster, port: v.port }),
      directory({ path: `${p.conf}/conf.d`, mode: "0755", owner: "postgres", group: "postgres" }),
      // Debian's postgresql.conf does not read conf.d by itself; last, so conf.d overrides it.
      line({
        path: `${p.conf}/postgresql.conf`,
        line: "include_dir = 'conf.d'",
        regexp: "^include_dir\\s*=\\s*'conf\\.d'",
      }),
      file({
        path: `${p.conf}/conf.d/lab.conf`,
        mode: "0644",
        owner: "postgres",
        group: "postgres",
        content: lab.template("postgres/settings.conf.njk", {
          role: "postgres",
          about: "the cluster's own settings.",
          settings,
        }),
      }),
      postgresRunning({ version: v.version, name: v.cluster, port: v.port, settings }),
    ];
  },
});
