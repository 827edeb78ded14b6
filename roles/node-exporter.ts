// node-exporter: Prometheus's host metrics from Debian's prometheus-node-exporter,
// listening on one address (the lab's hosts may share a network namespace, as the
// demo's do), with the textfile collector reading a directory where jobs leave
// *.prom files. Its options live in /etc/default (read by the init script and by
// the systemd unit alike); a change restarts it.
import { Type, defineRole, directory, file, packages, restartService, service, sh } from "lab";

export const NodeExporterVars = Type.Object(
  {
    /** address:port to listen on, e.g. "10.10.10.5:9100". */
    listen: Type.String({ pattern: "^[^\\s\"']+:[0-9]{1,5}$", description: "address:port to listen on." }),
    /** Directory of *.prom files for the textfile collector. */
    textfileDir: Type.String({
      pattern: "^/[^\\s\"']*$",
      description: "Directory of *.prom files for the textfile collector.",
    }),
  },
  { additionalProperties: false },
);

export const nodeExporterDefaults = { textfileDir: "/var/lib/prometheus/node-exporter" };

export const nodeExporter = defineRole({
  name: "node-exporter",
  vars: NodeExporterVars,
  resources: (v) => ({
    resources: [
      packages({ names: ["prometheus-node-exporter"] }),
      directory({ path: v.textfileDir, mode: "0755" }),
      file(
        {
          path: "/etc/default/prometheus-node-exporter",
          mode: "0644",
          content: `# Managed by lab (role node-exporter).\nARGS=${sh`${`--web.listen-address=${v.listen} --collector.textfile.directory=${v.textfileDir}`}`}\n`,
        },
        { notify: ["restart prometheus-node-exporter"] },
      ),
      service({ name: "prometheus-node-exporter", state: "started", enabled: true }),
    ],
    handlers: [restartService("prometheus-node-exporter")],
  }),
});
