// The example stacks of the homelab plan (templates/stacks/*, images/*), deployed by
// the real CLI to a docker test host and used as a person would: through the reverse
// proxy, the wiki saves a page, the automation tool answers a webhook (its default
// `ping` hook), Grafana
// (stand-in) answers its health API, and Prometheus scrapes node-exporter, including
// the backup metrics a backup job leaves for the textfile collector.
import { cp, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, changedCount, makeProject, type JsonReport, type TestProject } from "./project.ts";
import { containers, startDockerHost, type DockerLab } from "./compose-harness.ts";

const EXAMPLE_IMAGES = [
  "busybox",
  "caddy",
  "prometheus",
  "alertmanager",
  "node-exporter",
  "grafana-standin",
  "wiki-standin",
  "automation-standin",
];
const STACKS = ["proxy", "wiki", "automation", "monitoring"].map((s) => `labit-${s}`);
const WIKI_TOKEN = "wiki-edit-9f3b2c-SECRET";

// The site playbook's docker play itself (dockerStacksFor), driven by host vars as in inventory/.
const PLAYBOOK = `
import { definePlaybook } from "@lab";
import { dockerStacksFor } from "${join(REPO, "roles/example-stacks.ts")}";
export default definePlaybook({ name: "examples", plays: [{ name: "docker", hosts: "docker_hosts", roles: (h) => dockerStacksFor(h) }] });
`;

let dl: DockerLab;
let p: TestProject;
let env: Record<string, string>;
let base: string;

const setSecret = async (name: string, value: string) =>
  (await p.lab(["secrets", "set", name], { env, stdin: `${value}\n` })).code;
const http = async (url: string, init?: RequestInit) => {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: r.status, body: await r.text() };
};

beforeAll(async () => {
  dl = await startDockerHost({
    prefix: "lab-it-examples",
    subnet: "127.0.14",
    projects: STACKS,
    images: EXAMPLE_IMAGES,
  });
  const bind = dl.lab.hosts[0]!.address;
  base = `http://${bind}`;
  p = await makeProject(dl.lab, {
    groups: {
      docker_hosts: {
        hosts: ["docker1"],
        vars: {
          compose_stacks: ["proxy", "wiki", "automation", "monitoring"],
          docker_manage_service: false,
          compose_prefix: "labit-",
          compose_root: `${dl.stacksRoot}/stacks`,
          backup_metrics_dir: `${dl.stacksRoot}/metrics`,
          // A backup metrics endpoint; node-exporter's own stands in for a backup exporter here.
          backup_metrics_targets: [`${bind}:9100`],
          // Alerts fire at the first evaluation that sees the condition (the example lab waits 15m).
          monitoring_alert_for: "0s",
        },
      },
    },
    files: { "playbooks/site.ts": PLAYBOOK },
  });
  await cp(join(REPO, "templates/stacks"), join(p.root, "templates/stacks"), { recursive: true });
  await cp(join(REPO, "templates/docker"), join(p.root, "templates/docker"), { recursive: true });
  env = { LAB_AGE_KEY_FILE: join(p.root, "age.key") };
  expect((await p.lab(["secrets", "init"], { env })).code).toBe(0);
  expect(await setSecret("wiki_edit_token", WIKI_TOKEN)).toBe(0);
  expect(await setSecret("grafana_admin_password", "grafana-admin-5e1d-SECRET")).toBe(0);
  // What a backup job leaves for node-exporter's textfile collector (lab_backup_* metrics).
  await mkdir(join(dl.stacksRoot, "metrics"), { recursive: true });
  const now = Math.floor(Date.now() / 1000);
  await writeFile(
    join(dl.stacksRoot, "metrics/backup.prom"),
    `lab_backup_last_success_timestamp_seconds{target="db1"} ${now}\nlab_backup_rpo_seconds{target="db1"} 86400\n`,
  );
}, 900_000);

afterAll(async () => {
  await dl?.stop();
});

describe("the homelab's example stacks", { timeout: 600_000 }, () => {
  it("come up healthy, and a second apply changes nothing", async () => {
    const first = await p.lab(["apply", "-y"], { env, timeoutMs: 600_000 });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    for (const stack of STACKS) {
      const cs = await containers(stack);
      expect(cs.length, stack).toBeGreaterThan(0);
      for (const c of cs) expect(c, `${stack}/${c.service}`).toMatchObject({ status: "running", health: "healthy" });
    }
    const again = await p.lab(["apply", "-y", "--json"], { env, timeoutMs: 600_000 });
    expect(again.code, again.stderr).toBe(0);
    const report = JSON.parse(again.stdout) as JsonReport;
    expect(changedCount(report), JSON.stringify(report.steps.filter((s) => s.status !== "ok"))).toBe(0);
    expect(first.stdout + first.stderr + again.stdout + again.stderr).not.toContain(WIKI_TOKEN);
  });

  it("serve the wiki and the automation tool through the reverse proxy", async () => {
    expect(await http(`${base}:8080/health`)).toEqual({ status: 200, body: "ok" });
    expect((await http(`${base}:8080/wiki/cgi-bin/wiki?Home`)).body).toContain("Welcome to Lab wiki.");
    const denied = await http(`${base}:8080/wiki/cgi-bin/wiki?Plan`, { method: "POST", body: "no token" });
    expect(denied.status).toBe(403);
    const saved = await http(`${base}:8080/wiki/cgi-bin/wiki?Plan`, {
      method: "POST",
      body: "VLANs: Trusted, IoT, Guest, Lab\n",
      headers: { "x-wiki-token": WIKI_TOKEN },
    });
    expect(saved).toEqual({ status: 200, body: "VLANs: Trusted, IoT, Guest, Lab\n" });
    expect((await http(`${base}:8080/automation/cgi-bin/hook?ping`)).body).toBe("pong\n");
  });

  it("monitor the host and the backups: Prometheus scrapes node-exporter and the backup metrics, Grafana answers", async () => {
    expect(JSON.parse((await http(`${base}:3000/api/health`)).body)).toMatchObject({ database: "ok" });
    const rules = JSON.parse((await http(`${base}:9090/api/v1/rules`)).body) as {
      data: { groups: { rules: { name: string }[] }[] };
    };
    expect(rules.data.groups.flatMap((g) => g.rules.map((r) => r.name))).toEqual([
      "BackupTooOld",
      "BackupMetricsMissing",
      "DrillFailed",
      "DrillOverdue",
    ]);
    // The first scrape happens within one scrape interval (15 s); bounded wait.
    let samples: { metric: { job: string; target: string } }[] = [];
    for (let i = 0; i < 30 && samples.length < 2; i++) {
      const q = await http(`${base}:9090/api/v1/query?query=lab_backup_last_success_timestamp_seconds`);
      samples = (JSON.parse(q.body) as { data: { result: typeof samples } }).data.result;
      if (samples.length < 2) await new Promise((r) => setTimeout(r, 2000));
    }
    expect(samples.map((s) => `${s.metric.job}/${s.metric.target}`).sort()).toEqual(["backups/db1", "node/db1"]);
    // Each target's first scrape comes at its own offset within the interval: "unknown" until then (bounded wait).
    const health = async () =>
      (
        JSON.parse((await http(`${base}:9090/api/v1/targets`)).body) as {
          data: { activeTargets: { labels: { job: string }; health: string }[] };
        }
      ).data.activeTargets
        .map((t) => `${t.labels.job}:${t.health}`)
        .sort();
    let targets = await health();
    for (let i = 0; i < 15 && targets.some((t) => t.endsWith(":unknown")); i++) {
      await new Promise((r) => setTimeout(r, 2000));
      targets = await health();
    }
    expect(targets).toEqual(["backups:up", "node:up", "prometheus:up"]);
    // Prometheus hands its alerts to Alertmanager; the backups dashboard is provisioned for Grafana.
    const ams = JSON.parse((await http(`${base}:9090/api/v1/alertmanagers`)).body) as {
      data: { activeAlertmanagers: { url: string }[] };
    };
    expect(ams.data.activeAlertmanagers.map((a) => a.url)).toEqual([`${base}:9093/api/v2/alerts`]);
    expect((await http(`${base}:3000/`)).body).toContain("/etc/grafana/provisioning/dashboards/lab.yml");
  });

  it("a stale backup fires BackupTooOld, and Alertmanager receives it", async () => {
    // A target whose newest backup is two hours old against a one-hour RPO, as `lab backup` would write it.
    const now = Math.floor(Date.now() / 1000);
    await writeFile(
      join(dl.stacksRoot, "metrics/stale.prom"),
      `lab_backup_last_success_timestamp_seconds{target="stale1"} ${now - 7200}\nlab_backup_rpo_seconds{target="stale1"} 3600\n`,
    );
    type AmAlert = { labels: Record<string, string>; status: { state: string } };
    let received: AmAlert[] = [];
    // Scrape (15 s) + rule evaluation (15 s) + the push to Alertmanager: bounded wait.
    for (let i = 0; i < 45 && received.length === 0; i++) {
      received = JSON.parse(
        (await http(`${base}:9093/api/v2/alerts?filter=alertname%3D%22BackupTooOld%22`)).body,
      ) as AmAlert[];
      if (received.length === 0) await new Promise((r) => setTimeout(r, 2000));
    }
    // (Once per scrape job that sees the file: node, and backups standing in for an exporter.)
    expect(
      new Set(received.map((a) => `${a.labels.alertname} ${a.labels.target} ${a.labels.severity} ${a.status.state}`)),
    ).toEqual(new Set(["BackupTooOld stale1 critical active"]));
    // The fresh target does not fire.
    const firing = JSON.parse((await http(`${base}:9090/api/v1/alerts`)).body) as {
      data: { alerts: { labels: Record<string, string>; state: string }[] };
    };
    expect(
      new Set(firing.data.alerts.filter((a) => a.labels.alertname === "BackupTooOld").map((a) => a.labels.target)),
    ).toEqual(new Set(["stale1"]));
  });
});
