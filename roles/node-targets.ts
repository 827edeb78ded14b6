// node-targets: the node-exporters of an inventory group as a Prometheus file_sd
// targets file (the monitoring stack reads targets/*.json and rereads it when it
// changes). A VM's guest is listed at the address its guest agent reports, read
// when the host is read, so a VM an earlier play of the run creates is scraped
// after that run; one that does not exist yet is left out until the next apply.
import { Type, defineRole, directory, lateFile, vmIpv4, type HostInfo } from "lab";
import { resolveSources } from "./vm-addresses.ts";

export const NodeTargetsVars = Type.Object(
  {
    /** The targets file (JSON), e.g. <stack dir>/targets/node.json. */
    path: Type.String({ pattern: "^/[^\\s\"']*\\.json$", description: "The targets file (JSON)." }),
    /** The inventory group whose hosts run node-exporter. */
    group: Type.String({ minLength: 1, description: "The inventory group whose hosts run node-exporter." }),
    /** node-exporter's port on every host. */
    port: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 65535, default: 9100, description: "node-exporter's port." }),
    ),
  },
  { additionalProperties: false },
);

/** The file_sd document: one target group per host, labelled with its inventory name, sorted by name. */
export function targetsFile(found: readonly { name: string; address: string }[], port: number): string {
  const groups = [...found]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((h) => ({ targets: [`${h.address}:${port}`], labels: { lab_host: h.name } }));
  return `${JSON.stringify(groups, null, 2)}\n`;
}

export const nodeTargets = defineRole({
  name: "node-targets",
  vars: NodeTargetsVars,
  resources: (v, _host, tools) => {
    const members: HostInfo[] = [...tools.hosts.values()].filter((h) => h.groups.includes(v.group));
    return {
      resources: [
        directory({ path: v.path.slice(0, v.path.lastIndexOf("/")), mode: "0755" }),
        lateFile({ path: v.path, mode: "0644" }, async (ctx) => {
          const sources = members.map((h) =>
            h.connection.vm ? { name: h.name, vm: h.connection.vm } : { name: h.name, address: h.connection.address },
          );
          const { resolved } = await resolveSources(sources, (vm) => vmIpv4(ctx, tools, vm));
          return targetsFile(resolved, v.port ?? 9100);
        }),
      ],
    };
  },
});
