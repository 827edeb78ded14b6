// Compose stacks against the REAL Docker engine of this machine and docker-compose
// 1.29.2, deployed over SSH by the real CLI to a test host that has the docker CLI
// and the machine's /var/run/docker.sock. Every project is labit-* and removed after.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, changedCount, inHost, makeProject, type LabRun, type TestProject } from "./project.ts";
import { byService, containers, startDockerHost, type DockerLab } from "./compose-harness.ts";

const APP_TOKEN = "tok-9Qz7-compose-SECRET-4e1b";
const APP = "labit-app";
const TYPED = "labit-typed";

// The app stack: web (healthcheck, secret env file), api (healthcheck, plain env file),
// worker (no healthcheck: must be running). Vars from -e switch it into failure modes.
const COMPOSE = `version: "3.8"
services:
  web:
    image: lab/busybox:1.35
    command: ["sh", "-c", "echo web starting; mkdir -p /www && echo ok > /www/index.html && exec httpd -f -v -p 8080 -h /www"]
    env_file: [app.env]
    labels: { lab.test: compose }
    healthcheck:
{% if broken %}
      test: ["CMD-SHELL", "echo probe says no; exit 1"]
{% else %}
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
{% endif %}
      interval: 1s
      timeout: 2s
      retries: 2
  api:
    image: lab/busybox:1.35
    command: ["sh", "-c", "mkdir -p /www && echo \\"$$API_MODE\\" > /www/index.html && exec httpd -f -p 8081 -h /www"]
    env_file: [api.env]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8081/"]
      interval: 1s
      retries: 3
  worker:
    image: lab/busybox:1.35
    command: ["sleep", "100000"]
{% if malformed %}
    ports: "not a list"
    imagez: nope
{% endif %}
`;

const PLAYBOOK = (stacksRoot: string) => `
import { definePlaybook } from "@lab";
import { dockerHost, dockerHostDefaults } from "${join(REPO, "roles/docker-host.ts")}";
import { composeStack } from "${join(REPO, "roles/compose-stack.ts")}";

const flag = (v: unknown) => v === "yes";
export default definePlaybook({
  name: "compose",
  plays: [{
    name: "stacks",
    hosts: "docker_hosts",
    roles: (h) => [
      dockerHost({ ...dockerHostDefaults, manageService: false, stacksRoot: ${JSON.stringify(stacksRoot)} }),
      composeStack({
        name: "${APP}",
        root: ${JSON.stringify(stacksRoot)},
        template: "stacks/app/compose.yaml.njk",
        vars: { broken: flag(h.vars.broken), malformed: flag(h.vars.malformed) },
        env: {
          "app.env": { APP_TOKEN: { secret: "app_token" }, APP_NAME: "lab test" },
          "api.env": { API_MODE: String(h.vars.api_mode ?? "green") },
        },
        healthyWithin: 3600,
      }),
      // A stack as typed service definitions instead of a template.
      composeStack({
        name: "${TYPED}",
        root: ${JSON.stringify(stacksRoot)},
        healthyWithin: 120,
        definition: {
          services: {
            one: {
              image: "lab/busybox:1.35",
              command: ["sh", "-c", "touch /tmp/ready; exec sleep 100000"],
              healthcheck: { test: ["CMD", "test", "-e", "/tmp/ready"], interval: "1s", retries: 3 },
            },
          },
        },
      }, { tags: ["typed"] }),
    ],
  }],
});
`;

let dl: DockerLab;
let p: TestProject;
let env: Record<string, string>;
const outputs: string[] = [];
const keep = (r: LabRun): LabRun => (outputs.push(r.stdout, r.stderr), r);
const host = () => dl.lab.hosts[0]!;
const stackDir = () => `${dl.stacksRoot}/${APP}`;
const onHost = async (script: string) => (await inHost(host().container, script)).stdout.trim();
const lab = async (args: string[]) => keep(await p.lab(args, { env, timeoutMs: 300_000 }));
const applyJson = async (args: string[] = []) => {
  const r = await lab(["apply", "-y", "--json", ...args]);
  if (process.env.LAB_DEBUG_TESTS) console.error(r.stdout, r.stderr);
  return {
    run: r,
    report: JSON.parse(r.stdout) as Parameters<typeof changedCount>[0] & {
      steps: { id: string; status: string; reason?: string; changes: { summary: string }[] }[];
    },
  };
};
/** Names, modes and hashes of everything under the stack's directory. */
const snapshot = () =>
  onHost(`cd ${stackDir()} && find . -printf '%p %m %l\\n' | sort && find . -type f -exec sha256sum {} + | sort`);

beforeAll(async () => {
  dl = await startDockerHost({ prefix: "lab-it-compose", subnet: "127.0.13", projects: [APP, TYPED] });
  p = await makeProject(dl.lab, {
    groups: { docker_hosts: { hosts: ["docker1"] } },
    files: {
      "playbooks/site.ts": PLAYBOOK(dl.stacksRoot),
      "templates/stacks/app/compose.yaml.njk": COMPOSE,
      // The docker-host role's template, as the example lab (this repository) has it.
      "templates/docker/daemon.json.njk": await readFile(join(REPO, "templates/docker/daemon.json.njk"), "utf8"),
    },
  });
  env = { LAB_AGE_KEY_FILE: join(p.root, "age.key") };
  expect((await p.lab(["secrets", "init"], { env })).code).toBe(0);
  expect((await p.lab(["secrets", "set", "app_token"], { env, stdin: `${APP_TOKEN}\n` })).code).toBe(0);
}, 900_000);

afterAll(async () => {
  await dl?.stop();
});

// Compose v1 starts a Python interpreter per command: generous timeouts for a loaded machine.
describe("compose stacks on a real Docker engine (docker-compose 1.29.2 over SSH)", { timeout: 600_000 }, () => {
  it("plans the new stack, then applies it until every service is healthy or running", async () => {
    const plan = await lab(["plan"]);
    expect(plan.code, plan.stderr + plan.stdout).toBe(0);
    expect(plan.stdout).toContain('+      test: ["CMD", "wget"');
    expect(plan.stdout).toMatch(/create app\.env \(secret content, mode 0600\)/);
    expect(plan.stdout).toContain("create web (image lab/busybox:1.35)");
    expect(await onHost(`test -e ${stackDir()} && echo yes || echo no`)).toBe("no");

    const first = await applyJson();
    expect(first.run.code, first.run.stderr + first.run.stdout).toBe(0);
    const cs = byService(await containers(APP));
    expect(Object.keys(cs)).toEqual(["api", "web", "worker"]);
    expect(cs.web).toMatchObject({ status: "running", health: "healthy" });
    expect(cs.api).toMatchObject({ status: "running", health: "healthy" });
    expect(cs.worker).toMatchObject({ status: "running", health: "-" });
    // The secret reached the container, through a 0600 env file.
    expect(await sh(["docker", "exec", `${APP}_web_1`, "sh", "-c", 'echo "$APP_TOKEN"'])).toBe(`${APP_TOKEN}\n`);
    expect(await onHost(`stat -c '%a' ${stackDir()}/current/app.env ${stackDir()}/current/api.env ${stackDir()}`)).toBe(
      "600\n600\n700",
    );
    expect(await onHost(`readlink ${stackDir()}/current`)).toMatch(/^rev-[0-9a-f]{12}$/);
  });

  it("a second apply changes nothing and recreates nothing", async () => {
    const before = await containers(APP);
    const again = await applyJson();
    expect(again.run.code, again.run.stderr).toBe(0);
    expect(changedCount(again.report), JSON.stringify(again.report.steps.filter((s) => s.status !== "ok"))).toBe(0);
    expect((await containers(APP)).map((c) => c.id)).toEqual(before.map((c) => c.id));
    const plan = await lab(["plan", "--detailed-exitcode"]);
    expect(plan.code, plan.stdout).toBe(0);
  });

  it("a changed env file recreates only the service that reads it, and plan says so", async () => {
    const before = byService(await containers(APP));
    const plan = await lab(["plan", "-e", "api_mode=blue"]);
    expect(plan.stdout).toContain("-API_MODE=green");
    expect(plan.stdout).toContain("+API_MODE=blue");
    expect(plan.stdout).toMatch(/recreate api: configuration changed/);
    expect(plan.stdout).not.toMatch(/recreate (web|worker)/);

    const r = await applyJson(["-e", "api_mode=blue"]);
    expect(r.run.code, r.run.stderr + r.run.stdout).toBe(0);
    const after = byService(await containers(APP));
    expect(after.api!.id).not.toBe(before.api!.id);
    expect(after.web!.id).toBe(before.web!.id);
    expect(after.worker!.id).toBe(before.worker!.id);
    expect(after.api).toMatchObject({ health: "healthy" });
    expect(await sh(["docker", "exec", `${APP}_api_1`, "wget", "-q", "-O-", "http://127.0.0.1:8081/"])).toBe("blue\n");
    // Two revisions kept: current and previous.
    expect(await onHost(`ls ${stackDir()} | grep -c '^rev-'`)).toBe("2");
    const again = await applyJson(["-e", "api_mode=blue"]);
    expect(changedCount(again.report)).toBe(0);
  });

  it("a recreate interrupted by a killed lab (Compose v1 left the old container renamed): the next apply converges", async () => {
    // What `docker-compose up` leaves when it dies between renaming the old container and creating the new one.
    const old = byService(await containers(APP)).api!;
    const temp = `${old.id.slice(0, 12)}_${APP}_api_1`;
    await sh(["docker", "rename", `${APP}_api_1`, temp]);
    const r = await applyJson(["-e", "api_mode=green"]);
    expect(r.run.code, r.run.stderr + r.run.stdout).toBe(0);
    const names = (
      await sh(["docker", "ps", "-a", "--filter", `label=com.docker.compose.project=${APP}`, "--format", "{{.Names}}"])
    )
      .split("\n")
      .filter(Boolean)
      .sort();
    expect(names).toEqual([`${APP}_api_1`, `${APP}_web_1`, `${APP}_worker_1`]);
    expect(await sh(["docker", "exec", `${APP}_api_1`, "wget", "-q", "-O-", "http://127.0.0.1:8081/"])).toBe("green\n");
    const again = await applyJson(["-e", "api_mode=green"]);
    expect(changedCount(again.report)).toBe(0);
    // Back to blue for the next tests.
    expect((await applyJson(["-e", "api_mode=blue"])).run.code).toBe(0);
  });

  it("a healthcheck that never passes fails the apply at once and rolls back to the previous healthy revision", async () => {
    const good = await onHost(`readlink ${stackDir()}/current`);
    const healthyWeb = byService(await containers(APP)).web!;
    const t0 = Date.now();
    const r = await applyJson(["-e", "api_mode=blue", "-e", "broken=yes"]);
    // healthyWithin is an hour: finishing within minutes proves it did not wait it out.
    expect(Date.now() - t0).toBeLessThan(300_000);
    expect(r.run.code).toBe(3);
    const failed = r.report.steps.find((s) => s.status === "failed");
    expect(failed?.id).toBe(`compose-stack:${APP}`);
    expect(failed?.reason).toMatch(/service web is unhealthy/);
    expect(failed?.reason).toContain("probe says no"); // the health log
    expect(failed?.reason).toContain("web starting"); // the container log
    expect(failed?.reason).toContain(`rolled back: ${good} is the current revision again`);
    // The previous revision is current and running again, healthy.
    expect(await onHost(`readlink ${stackDir()}/current`)).toBe(good);
    const web = byService(await containers(APP)).web!;
    expect(web).toMatchObject({ status: "running", health: "healthy", hash: healthyWeb.hash });
    expect(await onHost(`ls ${stackDir()} | grep -c '^rev-'`)).toBe("2");
    const again = await applyJson(["-e", "api_mode=blue"]);
    expect(changedCount(again.report)).toBe(0);
  });

  it("with rollback off, a failed revision is left running for debugging", async () => {
    const good = await onHost(`readlink ${stackDir()}/current`);
    const r = await applyJson(["-e", "api_mode=blue", "-e", "broken=yes", "-e", "compose_rollback=false"]);
    expect(r.run.code).toBe(3);
    expect(r.report.steps.find((s) => s.status === "failed")?.reason).toContain("rollback is off");
    expect(await onHost(`readlink ${stackDir()}/current`)).not.toBe(good);
    expect(byService(await containers(APP)).web!.health).toBe("unhealthy");
    // Back to good for the next tests.
    const fix = await applyJson(["-e", "api_mode=blue"]);
    expect(fix.run.code, fix.run.stdout).toBe(0);
    expect(await onHost(`readlink ${stackDir()}/current`)).toBe(good);
  });

  it("a malformed compose file is refused before anything is uploaded", async () => {
    const before = await snapshot();
    const ids = (await containers(APP)).map((c) => c.id);
    const plan = await lab(["plan", "-e", "api_mode=blue", "-e", "malformed=yes"]);
    expect(plan.code).toBe(3);
    expect(plan.stdout + plan.stderr).toMatch(/Compose refuses the compose file/);
    const r = await applyJson(["-e", "api_mode=blue", "-e", "malformed=yes"]);
    expect(r.run.code).toBe(3);
    const failed = r.report.steps.find((s) => s.status === "failed");
    expect(failed?.reason).toMatch(/Compose refuses the compose file; nothing was uploaded/);
    expect(failed?.reason).toMatch(/imagez|ports/);
    expect(await snapshot()).toBe(before);
    expect((await containers(APP)).map((c) => c.id)).toEqual(ids);
  });

  it("manages daemon.json and the typed stack, and a secret never appears in any output", async () => {
    expect(await onHost("cat /etc/docker/daemon.json")).toContain('"live-restore": true');
    expect(byService(await containers(TYPED)).one).toMatchObject({ status: "running", health: "healthy" });
    const verbose = await lab(["apply", "-y", "-v", "-e", "api_mode=blue"]);
    expect(verbose.code).toBe(0);
    outputs.push(await readFile(join(p.root, ".lab/audit.jsonl"), "utf8"));
    for (const out of outputs) expect(out).not.toContain(APP_TOKEN);
    expect(outputs.join("\n")).toContain("(secret content");
  });
});

async function sh(args: string[]): Promise<string> {
  return new Promise((done, fail) =>
    execFile(args[0]!, args.slice(1), (err, stdout, stderr) =>
      err ? fail(new Error(`${args.join(" ")}: ${stderr}`)) : done(stdout),
    ),
  );
}
