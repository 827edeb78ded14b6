// The docker play's roles expand to what the host's vars ask for, and every example
// stack's templates render to YAML Compose-shaped files (the integration tests run them).
import { resolve } from "node:path";
import { NO_POLICY } from "../../../src/backup/policy.ts";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { RoleTools } from "../../../src/engine/playbook.ts";
import type { ComposeStackWant } from "../../../src/resources/compose/stack.ts";
import { templateRenderer } from "../../../src/engine/template.ts";
import { Secret } from "../../../src/secrets/secret.ts";
import { dockerStacksFor } from "../../../roles/example-stacks.ts";
import { dockerHost, dockerHostDefaults } from "../../../roles/docker-host.ts";
import { hostInfo } from "../helpers/host-ctx.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const tools: RoleTools = {
  template: templateRenderer(ROOT),
  root: ROOT,
  secret: (n) => new Secret(n, `value-of-${n}-123`),
  lab: { proxmox: {}, pbs: {}, vlans: {}, templates: {}, vms: {} },
  backups: NO_POLICY,
  vmKeys: () => [],
  hosts: new Map(),
};
const host = (vars: Record<string, unknown>) => ({
  ...hostInfo("web1", vars),
  connection: { ...hostInfo("web1").connection, address: "10.0.10.11" },
});
const expand = (vars: Record<string, unknown>) =>
  dockerStacksFor(host(vars)).map((use) => {
    const ajv = new Ajv({ strict: false });
    expect(ajv.validate(use.schema, JSON.parse(JSON.stringify(use.vars))), JSON.stringify(ajv.errors)).toBe(true);
    return { role: use.role, out: use.expand(use.vars, host(vars), tools) };
  });

describe("the docker play", () => {
  it("does nothing on a host without compose_stacks", () => expect(dockerStacksFor(host({}))).toEqual([]));

  it("refuses unknown stacks", () =>
    expect(() => dockerStacksFor(host({ compose_stacks: ["wki"] }))).toThrow(/unknown stacks \["wki"\]/));

  it("expands every example stack; templates render to Compose files", () => {
    const uses = expand({
      compose_stacks: ["proxy", "wiki", "automation", "monitoring"],
      compose_prefix: "demo-",
      docker_manage_service: false,
      backup_metrics_targets: ["db1:9854"],
    });
    expect(uses.map((u) => u.role)).toEqual([
      "docker-host",
      "compose-stack",
      "compose-stack",
      "compose-stack",
      "compose-stack",
    ]);
    expect(uses[0]!.out.resources.map((r) => r.id)).not.toContain("service:docker");
    const stacks = uses.slice(1).map((u) => u.out.resources[0]!.want as ComposeStackWant);
    expect(stacks.map((s) => s.name)).toEqual(["demo-wiki", "demo-automation", "demo-proxy", "demo-monitoring"]);
    for (const s of stacks) {
      const doc = parse(String(s.compose)) as { services: Record<string, { image: string; healthcheck?: unknown }> };
      for (const [name, svc] of Object.entries(doc.services)) {
        expect(svc.image, `${s.name}/${name}`).toMatch(/^lab\//);
        expect(svc.healthcheck, `${s.name}/${name} has a healthcheck`).toBeDefined();
      }
    }
    const files = (name: string) =>
      Object.fromEntries((stacks.find((s) => s.name === name)!.files ?? []).map((f) => [f.name, f]));
    expect(files("demo-proxy").Caddyfile!.content).toContain(
      "handle_path /wiki/* {\n\t\treverse_proxy 10.0.10.11:8081",
    );
    const prom = parse(files("demo-monitoring")["prometheus.yml"]!.content) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    expect(prom.scrape_configs.map((j) => `${j.job_name}=${j.static_configs[0]!.targets.join(",")}`)).toEqual([
      "prometheus=10.0.10.11:9090",
      "node=10.0.10.11:9100",
      "backups=db1:9854",
    ]);
    expect(files("demo-monitoring")["grafana.env"]).toMatchObject({ secret: true, mode: "0600" });
    expect(files("demo-wiki")["wiki.env"]!.content).toBe("WIKI_EDIT_TOKEN=value-of-wiki_edit_token-123\n");
    expect(files("demo-automation")["hooks/ping"]).toMatchObject({ mode: "0755" });
  });

  it("a plain value in the vars (demo) is used instead of the secret", () => {
    const [, wiki] = expand({ compose_stacks: ["wiki"], wiki_edit_token: "demo-token-1234" });
    const f = (wiki!.out.resources[0]!.want as ComposeStackWant).files![0]!;
    expect(f).toMatchObject({
      name: "wiki.env",
      content: "WIKI_EDIT_TOKEN=demo-token-1234\n",
      secret: false,
      mode: "0600",
    });
  });
});

describe("docker-host", () => {
  it("manages the service and restarts it when daemon.json changes, unless told not to", () => {
    const own = dockerHost(dockerHostDefaults).expand(dockerHostDefaults, host({}), tools);
    expect(own.resources.map((r) => r.id)).toEqual([
      "packages:present:docker-compose,docker.io",
      "directory:/etc/docker",
      "file:/etc/docker/daemon.json",
      "service:docker",
      "directory:/opt/lab/stacks",
    ]);
    expect(own.resources[2]!.notify).toEqual(["restart docker"]);
    expect(own.handlers?.map((h) => h.id)).toEqual(["restart docker"]);
    expect(JSON.parse(String((own.resources[2]!.want as { content: string }).content))).toEqual({
      "log-driver": "json-file",
      "log-opts": { "max-size": "10m", "max-file": "3" },
      "live-restore": true,
    });
    const vars = { ...dockerHostDefaults, manageService: false, liveRestore: false };
    const socket = dockerHost(vars).expand(vars, host({}), tools);
    expect(socket.resources.map((r) => r.id)).not.toContain("service:docker");
    expect(socket.resources[2]!.notify).toBeUndefined();
    expect(socket.handlers).toEqual([]);
    expect(
      (JSON.parse(String((socket.resources[2]!.want as { content: string }).content)) as Record<string, unknown>)[
        "live-restore"
      ],
    ).toBe(false);
  });
});
