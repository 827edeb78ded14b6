// The homelab's example Compose stacks (templates/stacks/*) as compose-stack role
// vars, and the site playbook's docker play: which of them a host runs, from its
// (declared, typed) host vars.
import { Ajv } from "ajv";
import { Type, type HostInfo, type RoleUse, type Static, badInput } from "lab";
import { composeStack, type ComposeStackVars, type EnvValue } from "./compose-stack.ts";
import { dockerHost, dockerHostDefaults } from "./docker-host.ts";
import { nodeTargets } from "./node-targets.ts";

// ---- The stacks, as compose-stack vars. ----
// Images default to the local builds of images/ (images/build.sh): nothing can be
// pulled in the demo lab. In a real lab, pass upstream images instead.

export interface ExampleStackOptions {
  /** The host's address: every example service listens there (host networking). */
  bind: string;
  /** Prepended to the stack (Compose project) name, e.g. "labit-" in tests. */
  prefix?: string;
  root?: string;
  healthyWithin?: number;
}

export const exampleStacks = {
  proxy: (
    o: ExampleStackOptions & { port?: number; routes: { path: string; upstream: string }[]; image?: string },
  ): ComposeStackVars => ({
    name: `${o.prefix ?? ""}proxy`,
    template: "stacks/proxy/compose.yaml.njk",
    vars: { bind: o.bind, port: o.port ?? 8080, routes: o.routes, image: o.image ?? "lab/caddy:2.6" },
    files: { Caddyfile: { template: "stacks/proxy/Caddyfile.njk" } },
    ...common(o),
  }),
  wiki: (
    o: ExampleStackOptions & { port?: number; title?: string; editToken: EnvValue; image?: string },
  ): ComposeStackVars => ({
    name: `${o.prefix ?? ""}wiki`,
    template: "stacks/wiki/compose.yaml.njk",
    vars: {
      bind: o.bind,
      port: o.port ?? 8081,
      title: o.title ?? "Lab wiki",
      image: o.image ?? "lab/wiki-standin:0.1",
    },
    env: { "wiki.env": { WIKI_EDIT_TOKEN: o.editToken } },
    ...common(o),
  }),
  automation: (
    o: ExampleStackOptions & {
      port?: number;
      jobs?: { schedule: string; command: string }[];
      hooks?: Record<string, string>;
      image?: string;
    },
  ): ComposeStackVars => ({
    name: `${o.prefix ?? ""}automation`,
    template: "stacks/automation/compose.yaml.njk",
    vars: {
      bind: o.bind,
      port: o.port ?? 8082,
      image: o.image ?? "lab/automation-standin:0.1",
      jobs: o.jobs ?? [{ schedule: "*/5 * * * *", command: "date -u +%FT%TZ > /data/heartbeat" }],
    },
    files: {
      crontab: { template: "stacks/automation/crontab.njk" },
      ...Object.fromEntries(
        Object.entries(o.hooks ?? { ping: "#!/bin/sh\necho pong\n" }).map(([name, script]) => [
          `hooks/${name}`,
          { content: script, mode: "0755" },
        ]),
      ),
    },
    ...common(o),
  }),
  monitoring: (
    o: ExampleStackOptions & {
      ports?: { prometheus: number; grafana: number; node_exporter: number; alertmanager: number };
      /** How long a backup/drill alert condition must hold before it fires (Prometheus `for:`, default 15m). */
      alertFor?: string;
      /** host:port of node exporters to scrape besides targets/*.json (default: this host's). */
      nodeTargets?: string[];
      /** host:port of backup metrics endpoints. */
      backupTargets?: string[];
      /** Where backup jobs write *.prom files for node-exporter's textfile collector. */
      textfileDir?: string;
      grafanaAdminPassword: EnvValue;
      images?: { prometheus: string; node_exporter: string; grafana: string; alertmanager: string };
    },
  ): ComposeStackVars => {
    const ports = o.ports ?? { prometheus: 9090, grafana: 3000, node_exporter: 9100, alertmanager: 9093 };
    return {
      name: `${o.prefix ?? ""}monitoring`,
      template: "stacks/monitoring/compose.yaml.njk",
      vars: {
        bind: o.bind,
        ports,
        retention: "15d",
        scrape_interval: "15s",
        alert_for: o.alertFor ?? "15m",
        group_wait: "30s",
        node_targets: o.nodeTargets ?? [`${o.bind}:${ports.node_exporter}`],
        backup_targets: o.backupTargets ?? [],
        textfile_dir: o.textfileDir ?? "/var/lib/lab/metrics",
        images: o.images ?? {
          prometheus: "lab/prometheus:2.42",
          node_exporter: "lab/node-exporter:1.5",
          grafana: "lab/grafana-standin:0.1",
          alertmanager: "lab/alertmanager:0.25",
        },
      },
      files: {
        "prometheus.yml": { template: "stacks/monitoring/prometheus.yml.njk" },
        "rules/backups.yml": { template: "stacks/monitoring/rules/backups.yml.njk" },
        "alertmanager.yml": { template: "stacks/monitoring/alertmanager.yml.njk" },
        "grafana/provisioning/datasources/prometheus.yml": {
          template: "stacks/monitoring/grafana/datasources.yml.njk",
        },
        "grafana/provisioning/dashboards/lab.yml": { template: "stacks/monitoring/grafana/dashboards.yml.njk" },
        "grafana/dashboards/backups.json": { template: "stacks/monitoring/grafana/backups-dashboard.json.njk" },
      },
      env: { "grafana.env": { GF_SECURITY_ADMIN_PASSWORD: o.grafanaAdminPassword } },
      ...common(o),
    };
  },
};

const common = (o: ExampleStackOptions) => ({
  ...(o.root ? { root: o.root } : {}),
  healthyWithin: o.healthyWithin ?? 180,
});

// ---- The site playbook's docker play: which example stacks a host runs, from its vars. ----
const STACK_NAMES = ["proxy", "wiki", "automation", "monitoring"] as const;

/** The host vars the docker play reads: spread into the project's defineHostVars. */
export const dockerPlayVars = {
  compose_stacks: Type.Optional(
    Type.Array(Type.String(), {
      description: `Example stacks the host runs (${STACK_NAMES.join(", ")}); none: the docker play does nothing there.`,
    }),
  ),
  docker_manage_service: Type.Optional(
    Type.Boolean({
      description:
        "false: the engine is not the host's own (e.g. the demo's mounted socket): daemon.json is written, the service left alone.",
    }),
  ),
  compose_prefix: Type.Optional(Type.String({ description: "Prepended to stack names." })),
  compose_root: Type.Optional(
    Type.String({ pattern: "^/", description: "Where stacks live (default /opt/lab/stacks)." }),
  ),
  compose_rollback: Type.Optional(
    Type.Boolean({ description: "false: keep a failed revision running for debugging (-e compose_rollback=false)." }),
  ),
  backup_metrics_dir: Type.Optional(
    Type.String({ description: "*.prom files of backup jobs, for node-exporter's textfile collector." }),
  ),
  backup_metrics_targets: Type.Optional(
    Type.Array(Type.String(), { description: "host:port of backup metrics endpoints for Prometheus." }),
  ),
  monitoring_alert_for: Type.Optional(
    Type.String({
      pattern: "^[0-9]+[smhd]$",
      description: "How long a backup/drill alert condition holds before it fires (default 15m).",
    }),
  ),
  monitoring_node_group: Type.Optional(
    Type.String({
      description:
        "Inventory group whose node-exporters Prometheus scrapes too (VM guests at their guest agent's address), besides the stack's own.",
    }),
  ),
  wiki_edit_token: Type.Optional(
    Type.String({ description: "A plain value (demo only); absent: the secret of that name." }),
  ),
  grafana_admin_password: Type.Optional(
    Type.String({ description: "A plain value (demo only); absent: the secret of that name." }),
  ),
};
const DockerPlayVars = Type.Object(dockerPlayVars);
export type DockerPlayVars = Static<typeof DockerPlayVars>;
const validDockerVars = new Ajv({ strict: false, allErrors: false }).compile<DockerPlayVars>(DockerPlayVars);

export function dockerStacksFor(host: HostInfo): RoleUse[] {
  const vars = host.vars;
  if (!validDockerVars(vars)) {
    const e = validDockerVars.errors?.[0];
    throw badInput(
      `host ${host.name}: vars${e?.instancePath.replaceAll("/", ".") ?? ""} ${e?.message ?? "are invalid"}`,
      {},
      "see dockerPlayVars in roles/example-stacks.ts",
    );
  }
  const wanted = vars.compose_stacks ?? [];
  if (wanted.length === 0) return [];
  const unknown = wanted.filter((s) => !(STACK_NAMES as readonly string[]).includes(s));
  if (unknown.length)
    throw badInput(
      `host ${host.name}: compose_stacks has unknown stacks ${JSON.stringify(unknown)}`,
      {},
      `known: ${STACK_NAMES.join(", ")}`,
    );
  const has = (s: string) => wanted.includes(s);
  const envValue = (k: "wiki_edit_token" | "grafana_admin_password"): EnvValue => vars[k] ?? { secret: k };
  const root = vars.compose_root ?? dockerHostDefaults.stacksRoot;
  const o: ExampleStackOptions = {
    bind: host.connection.address,
    root,
    ...(vars.compose_prefix ? { prefix: vars.compose_prefix } : {}),
  };
  return [
    dockerHost({ ...dockerHostDefaults, manageService: vars.docker_manage_service !== false, stacksRoot: root }),
    ...(has("wiki") ? [composeStack(exampleStacks.wiki({ ...o, editToken: envValue("wiki_edit_token") }))] : []),
    ...(has("automation") ? [composeStack(exampleStacks.automation(o))] : []),
    ...(has("proxy")
      ? [
          composeStack(
            exampleStacks.proxy({
              ...o,
              routes: [
                ...(has("wiki") ? [{ path: "/wiki", upstream: `${o.bind}:8081` }] : []),
                ...(has("automation") ? [{ path: "/automation", upstream: `${o.bind}:8082` }] : []),
              ],
            }),
          ),
        ]
      : []),
    ...(has("monitoring")
      ? [
          composeStack(
            exampleStacks.monitoring({
              ...o,
              grafanaAdminPassword: envValue("grafana_admin_password"),
              ...(vars.backup_metrics_dir ? { textfileDir: vars.backup_metrics_dir } : {}),
              ...(vars.backup_metrics_targets ? { backupTargets: vars.backup_metrics_targets } : {}),
              ...(vars.monitoring_alert_for ? { alertFor: vars.monitoring_alert_for } : {}),
            }),
          ),
          // After the stack, whose first upload makes its directory; Prometheus rereads the file when it changes.
          ...(vars.monitoring_node_group
            ? [
                nodeTargets({
                  path: `${root}/${o.prefix ?? ""}monitoring/targets/node.json`,
                  group: vars.monitoring_node_group,
                }),
              ]
            : []),
        ]
      : []),
  ];
}
