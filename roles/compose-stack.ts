// compose-stack: one Docker Compose stack, from a compose template in templates/
// (nunjucks) or from typed service definitions, with its config files and env
// files (values may come from the project's secrets: written 0600, never shown).
// lab validates it on the host before replacing anything, keeps the previous
// revision, brings it up and waits until every service is healthy (or running,
// without a healthcheck), and rolls back when it is not.
//
//   composeStack({ name: "wiki", template: "stacks/wiki/compose.yaml.njk", vars: { port: 8081 },
//                  env: { "wiki.env": { WIKI_ADMIN_PASSWORD: { secret: "wiki_admin_password" } } } })
//
// `lab apply -e compose_rollback=false` keeps a failed revision running for debugging.
import type { JSONSchemaType } from "ajv";
import { defineRole, type HostInfo, type RoleTools, type RoleUse } from "../src/index.ts";
import { badInput } from "../src/errors.ts";
import { dockerHost, dockerHostDefaults } from "./docker-host.ts";
import { composeStack as composeStackResource, composeYaml, stackFile, type ComposeDefinition, type StackFile } from "../src/resources/compose/index.ts";

export type EnvValue = string | { secret: string };

export interface ComposeStackVars {
  /** Compose project name and directory name under `root`. */
  name: string;
  /** The compose file: a template under templates/ ... */
  template?: string;
  /** ... or typed service definitions. */
  definition?: ComposeDefinition;
  /** Vars for the compose template and the file templates. */
  vars?: Record<string, unknown>;
  /** More files of the stack by relative name: a template under templates/, or inline content. */
  files?: Record<string, { template?: string; content?: string; mode?: string }>;
  /** Env files by relative name (reference them with env_file): KEY -> value or { secret: NAME }. */
  env?: Record<string, Record<string, EnvValue>>;
  /** Parent of the stack directories (default /opt/lab/stacks). */
  root?: string;
  /** Seconds for every service to become ready (default 120). */
  healthyWithin?: number;
  /** Roll back to the previous revision when the new one fails (default: true, or host var compose_rollback). */
  rollback?: boolean;
}

const schema = {
  type: "object",
  properties: {
    name: { type: "string", pattern: "^[a-z0-9][a-z0-9_-]*$" },
    template: { type: "string", nullable: true, minLength: 1 },
    definition: { type: "object", nullable: true, required: ["services"], properties: { services: { type: "object" } } },
    vars: { type: "object", nullable: true },
    files: {
      type: "object", nullable: true, required: [],
      additionalProperties: {
        type: "object",
        properties: { template: { type: "string", nullable: true }, content: { type: "string", nullable: true }, mode: { type: "string", nullable: true, pattern: "^[0-7]{3,4}$" } },
        additionalProperties: false,
      },
    },
    env: {
      type: "object", nullable: true, required: [],
      additionalProperties: {
        type: "object", required: [],
        propertyNames: { pattern: "^[A-Za-z_][A-Za-z0-9_]*$" },
        additionalProperties: {
          anyOf: [
            { type: "string", pattern: "^[^\\n\\r]*$" },
            { type: "object", properties: { secret: { type: "string" } }, required: ["secret"], additionalProperties: false },
          ],
        },
      },
    },
    root: { type: "string", nullable: true, pattern: "^/" },
    healthyWithin: { type: "integer", nullable: true, minimum: 1 },
    rollback: { type: "boolean", nullable: true },
  },
  required: ["name"],
  additionalProperties: false,
  oneOf: [{ required: ["template"] }, { required: ["definition"] }],
} as const;

export const composeStack = defineRole<ComposeStackVars>({
  name: "compose-stack",
  // The env values' union is beyond JSONSchemaType's inference; the schema above is checked by ajv at run time.
  schema: schema as unknown as JSONSchemaType<ComposeStackVars>,
  resources: (v, host, lab) => [
    composeStackResource({
      name: v.name,
      compose: v.template ? lab.template(v.template, { ...v.vars, stack: v.name, host: host.name }) : composeYaml(v.definition!),
      files: [...otherFiles(v, host, lab), ...envFiles(v, lab)],
      ...(v.root ? { root: v.root } : {}),
      ...(v.healthyWithin ? { healthyWithin: v.healthyWithin } : {}),
      rollback: v.rollback ?? hostRollback(host),
    }),
  ],
});

/** Host var compose_rollback (e.g. `-e compose_rollback=false`); default true. */
const hostRollback = (host: HostInfo): boolean => {
  const v = host.vars.compose_rollback;
  return !(v === false || (typeof v === "string" && ["false", "no", "0", "off"].includes(v.toLowerCase())));
};

function otherFiles(v: ComposeStackVars, host: HostInfo, lab: RoleTools): StackFile[] {
  return Object.entries(v.files ?? {}).map(([name, f]) => {
    if ((f.template === undefined) === (f.content === undefined)) throw badInput(`compose stack ${v.name}: file ${name} needs exactly one of template or content`);
    const content = f.template !== undefined ? lab.template(f.template, { ...v.vars, stack: v.name, host: host.name }) : f.content!;
    return stackFile(name, content, f.mode ? { mode: f.mode } : {});
  });
}

/** KEY=value lines; the file is secret (0600, never shown) when any value comes from the secrets. */
function envFiles(v: ComposeStackVars, lab: RoleTools): StackFile[] {
  return Object.entries(v.env ?? {}).map(([name, entries]) => {
    let secret = false;
    const lines = Object.entries(entries).map(([key, value]) => {
      let text: string;
      if (typeof value === "string") text = value;
      else {
        secret = true;
        text = lab.secret(value.secret).reveal();
      }
      if (/[\r\n]/.test(text)) throw badInput(`compose stack ${v.name}: ${name}: the value of ${key} has a line break, which an env file cannot hold`);
      return `${key}=${text}\n`;
    });
    return stackFile(name, lines.join(""), { secret, mode: "0600" });
  });
}

// ---- The homelab's example stacks (templates/stacks/*), as composeStack vars. ----
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
  proxy: (o: ExampleStackOptions & { port?: number; routes: { path: string; upstream: string }[]; image?: string }): ComposeStackVars => ({
    name: `${o.prefix ?? ""}proxy`,
    template: "stacks/proxy/compose.yaml.njk",
    vars: { bind: o.bind, port: o.port ?? 8080, routes: o.routes, image: o.image ?? "lab/caddy:2.6" },
    files: { Caddyfile: { template: "stacks/proxy/Caddyfile.njk" } },
    ...common(o),
  }),
  wiki: (o: ExampleStackOptions & { port?: number; title?: string; editToken: EnvValue; image?: string }): ComposeStackVars => ({
    name: `${o.prefix ?? ""}wiki`,
    template: "stacks/wiki/compose.yaml.njk",
    vars: { bind: o.bind, port: o.port ?? 8081, title: o.title ?? "Lab wiki", image: o.image ?? "lab/wiki-standin:0.1" },
    env: { "wiki.env": { WIKI_EDIT_TOKEN: o.editToken } },
    ...common(o),
  }),
  automation: (o: ExampleStackOptions & { port?: number; jobs?: { schedule: string; command: string }[]; hooks?: Record<string, string>; image?: string }): ComposeStackVars => ({
    name: `${o.prefix ?? ""}automation`,
    template: "stacks/automation/compose.yaml.njk",
    vars: { bind: o.bind, port: o.port ?? 8082, image: o.image ?? "lab/automation-standin:0.1", jobs: o.jobs ?? [{ schedule: "*/5 * * * *", command: "date -u +%FT%TZ > /data/heartbeat" }] },
    files: {
      crontab: { template: "stacks/automation/crontab.njk" },
      ...Object.fromEntries(Object.entries(o.hooks ?? { ping: "#!/bin/sh\necho pong\n" }).map(([name, script]) => [`hooks/${name}`, { content: script, mode: "0755" }])),
    },
    ...common(o),
  }),
  monitoring: (o: ExampleStackOptions & {
    ports?: { prometheus: number; grafana: number; node_exporter: number };
    /** host:port of node exporters to scrape (default: this host's). */
    nodeTargets?: string[];
    /** host:port of backup metrics endpoints. */
    backupTargets?: string[];
    /** Where backup jobs write *.prom files for node-exporter's textfile collector. */
    textfileDir?: string;
    grafanaAdminPassword: EnvValue;
    images?: { prometheus: string; node_exporter: string; grafana: string };
  }): ComposeStackVars => {
    const ports = o.ports ?? { prometheus: 9090, grafana: 3000, node_exporter: 9100 };
    return {
      name: `${o.prefix ?? ""}monitoring`,
      template: "stacks/monitoring/compose.yaml.njk",
      vars: {
        bind: o.bind, ports, retention: "15d", scrape_interval: "15s",
        node_targets: o.nodeTargets ?? [`${o.bind}:${ports.node_exporter}`],
        backup_targets: o.backupTargets ?? [],
        textfile_dir: o.textfileDir ?? "/var/lib/lab/metrics",
        images: o.images ?? { prometheus: "lab/prometheus:2.42", node_exporter: "lab/node-exporter:1.5", grafana: "lab/grafana-standin:0.1" },
      },
      files: {
        "prometheus.yml": { template: "stacks/monitoring/prometheus.yml.njk" },
        "rules/backups.yml": { template: "stacks/monitoring/rules/backups.yml.njk" },
        "grafana/provisioning/datasources/prometheus.yml": { template: "stacks/monitoring/grafana/datasources.yml.njk" },
      },
      env: { "grafana.env": { GF_SECURITY_ADMIN_PASSWORD: o.grafanaAdminPassword } },
      ...common(o),
    };
  },
};

const common = (o: ExampleStackOptions) => ({ ...(o.root ? { root: o.root } : {}), healthyWithin: o.healthyWithin ?? 180 });

// ---- The site playbook's docker play: which example stacks a host runs, from its vars. ----
//   compose_stacks: [proxy, wiki, automation, monitoring]   (none: the play does nothing on the host)
//   docker_manage_service: false    (the engine is not the host's own, e.g. the demo's mounted socket)
//   compose_prefix: "demo-"         (prepended to stack names)
//   compose_root: /opt/lab/stacks   (where stacks live)
//   backup_metrics_dir: /var/lib/lab/metrics   (*.prom files of backup jobs, for node-exporter)
//   wiki_edit_token / grafana_admin_password: a plain value (demo only); absent: the secret of that name
//   backup_metrics_targets: ["db1:9854"]   (backup metrics endpoints for Prometheus)
const STACK_NAMES = ["proxy", "wiki", "automation", "monitoring"] as const;

export function dockerStacksFor(host: HostInfo): RoleUse[] {
  const wanted = host.vars.compose_stacks;
  if (!Array.isArray(wanted) || wanted.length === 0) return [];
  const unknown = wanted.filter((s) => !(STACK_NAMES as readonly unknown[]).includes(s));
  if (unknown.length) throw badInput(`host ${host.name}: compose_stacks has unknown stacks ${JSON.stringify(unknown)}`, {}, `known: ${STACK_NAMES.join(", ")}`);
  const has = (s: string) => wanted.includes(s);
  const str = (k: string) => (typeof host.vars[k] === "string" ? host.vars[k] : undefined);
  const envValue = (k: string): EnvValue => str(k) ?? { secret: k };
  const root = str("compose_root") ?? dockerHostDefaults.stacksRoot;
  const o: ExampleStackOptions = { bind: host.connection.address, root, ...(str("compose_prefix") ? { prefix: str("compose_prefix") } : {}) };
  const list = (k: string) => (Array.isArray(host.vars[k]) ? (host.vars[k] as unknown[]).map(String) : undefined);
  return [
    dockerHost({ ...dockerHostDefaults, manageService: host.vars.docker_manage_service !== false, stacksRoot: root }),
    ...(has("wiki") ? [composeStack(exampleStacks.wiki({ ...o, editToken: envValue("wiki_edit_token") }))] : []),
    ...(has("automation") ? [composeStack(exampleStacks.automation(o))] : []),
    ...(has("proxy")
      ? [composeStack(exampleStacks.proxy({ ...o, routes: [
          ...(has("wiki") ? [{ path: "/wiki", upstream: `${o.bind}:8081` }] : []),
          ...(has("automation") ? [{ path: "/automation", upstream: `${o.bind}:8082` }] : []),
        ] }))]
      : []),
    ...(has("monitoring")
      ? [composeStack(exampleStacks.monitoring({ ...o, grafanaAdminPassword: envValue("grafana_admin_password"), ...(str("backup_metrics_dir") ? { textfileDir: str("backup_metrics_dir") } : {}), ...(list("backup_metrics_targets") ? { backupTargets: list("backup_metrics_targets")! } : {}) }))]
      : []),
  ];
}
