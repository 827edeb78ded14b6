// node-exporter: Prometheus's host metrics from Debian's prometheus-node-exporter,
// listening on one address (the lab's hosts may share a network namespace, as the
// demo's do), with the textfile collector reading a directory where jobs leave
// *.prom files. Its options live in /etc/default (read by the init script and by
// the systemd unit alike); a change restarts it. On a VM's guest the address can
// be the one its guest agent reports (read when the host is read: a VM an earlier
// play of the run creates is covered in that run).
import { Type, defineRole, directory, file, lateFile, packages, restartService, service, sh, vmIpv4 } from "lab";

export const NodeExporterVars = Type.Object(
  {
    /** address:port to listen on, e.g. "10.10.10.5:9100" (":9100": every address). */
    listen: Type.String({ pattern: "^[^\\s\"']*:[0-9]{1,5}$", description: "address:port to listen on." }),
    /** This host is the guest of VM NAME: listen on the address its guest agent reports, at listen's port. */
    vm: Type.Optional(
      Type.String({
        minLength: 1,
        description: "This host is the guest of VM NAME: listen on its guest agent's address, at listen's port.",
      }),
    ),
    /** Directory of *.prom files for the textfile collector. */
    textfileDir: Type.String({
      pattern: "^/[^\\s\"']*$",
      description: "Directory of *.prom files for the textfile collector.",
    }),
  },
  { additionalProperties: false },
);

export const nodeExporterDefaults = { textfileDir: "/var/lib/prometheus/node-exporter" };

const DEFAULTS_FILE = "/etc/default/prometheus-node-exporter";

/** /etc/default/prometheus-node-exporter for one listen address. */
export function exporterDefaults(listen: string, textfileDir: string): string {
  return `# Managed by lab (role node-exporter).\nARGS=${sh`${`--web.listen-address=${listen} --collector.textfile.directory=${textfileDir}`}`}\n`;
}

export const nodeExporter = defineRole({
  name: "node-exporter",
  vars: NodeExporterVars,
  resources: (v, _host, tools) => {
    const notify = { notify: ["restart prometheus-node-exporter"] };
    const port = v.listen.slice(v.listen.lastIndexOf(":") + 1);
    const vm = v.vm;
    return {
      resources: [
        packages({ names: ["prometheus-node-exporter"] }),
        directory({ path: v.textfileDir, mode: "0755" }),
        vm
          ? lateFile(
              { path: DEFAULTS_FILE, mode: "0644" },
              async (ctx) => exporterDefaults(`${await vmIpv4(ctx, tools, vm)}:${port}`, v.textfileDir),
              notify,
            )
          : file({ path: DEFAULTS_FILE, mode: "0644", content: exporterDefaults(v.listen, v.textfileDir) }, notify),
        service({ name: "prometheus-node-exporter", state: "started", enabled: true }),
      ],
      handlers: [restartService("prometheus-node-exporter")],
    };
  },
});
