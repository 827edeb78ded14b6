// A Docker host for the compose integration tests: a test host from
// lab-testhost-docker:bookworm (Debian's docker CLI + docker-compose 1.29.2) that
// drives THIS machine's dockerd through its bind-mounted socket. A bind mount in a
// stack resolves on the machine, so the stacks' root is mounted at the same path
// on both sides. Everything the tests create on the engine is a Compose project
// named labit-*; each test file names its own projects, and cleanUp(projects)
// removes exactly those containers, networks and volumes (never another file's).
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO } from "./project.ts";
import { startHosts, type TestLab } from "../hosts/hosts.ts";

const run = promisify(execFile);
export const DOCKER_IMAGE = "lab-testhost-docker:bookworm";
export const PROJECT_PREFIX = "labit-";

export async function sh(cmd: string, args: string[], timeout = 600_000): Promise<string> {
  return (await run(cmd, args, { timeout, maxBuffer: 32 << 20 })).stdout;
}

export interface DockerLab {
  lab: TestLab;
  /** Stacks' root, the same path on the machine and in the host. */
  stacksRoot: string;
  stop(): Promise<void>;
}

export async function startDockerHost(opts: {
  prefix: string;
  subnet: string;
  projects: string[];
  names?: string[];
  images?: string[];
}): Promise<DockerLab> {
  if (!opts.projects.every((p) => p.startsWith(PROJECT_PREFIX)))
    throw new Error(`test projects must be named ${PROJECT_PREFIX}*`);
  await sh("bash", [join(REPO, "test/hosts/docker-image.sh")]);
  await sh("bash", [join(REPO, "images/build.sh"), ...(opts.images ?? ["busybox"])]);
  await cleanUp(opts.projects);
  const stacksRoot = await mkdtemp(join(tmpdir(), "lab-it-stacks-"));
  const lab = await startHosts({
    prefix: opts.prefix,
    names: opts.names ?? ["docker1"],
    subnet: opts.subnet,
    stateDir: `.lab/${opts.prefix}`,
    image: DOCKER_IMAGE,
    extraDockerArgs: ["-v", "/var/run/docker.sock:/var/run/docker.sock", "-v", `${stacksRoot}:${stacksRoot}`],
  });
  return {
    lab,
    stacksRoot,
    async stop() {
      if (process.env.LAB_KEEP_HOSTS === "1") return;
      await cleanUp(opts.projects);
      await lab.stop();
      await rm(stacksRoot, { recursive: true, force: true });
    },
  };
}

/** Remove every container, network and volume of these Compose projects. */
export async function cleanUp(projects: readonly string[]): Promise<void> {
  const byProject = async (kind: "ps -a" | "network ls" | "volume ls") => {
    const out = await sh("docker", [
      ...kind.split(" "),
      "--filter",
      "label=com.docker.compose.project",
      "--format",
      `{{.${kind === "volume ls" ? "Name" : "ID"}}} {{.Label "com.docker.compose.project"}}`,
    ]);
    return out
      .split("\n")
      .map((l) => l.split(" "))
      .filter(([id, p]) => id && p && projects.includes(p))
      .map(([id]) => id!);
  };
  const containers = await byProject("ps -a");
  if (containers.length) await sh("docker", ["rm", "-f", "-v", ...containers]);
  const networks = await byProject("network ls");
  if (networks.length) await sh("docker", ["network", "rm", ...networks]);
  const volumes = await byProject("volume ls");
  if (volumes.length) await sh("docker", ["volume", "rm", "-f", ...volumes]);
}

export interface Ctr {
  id: string;
  service: string;
  hash: string;
  status: string;
  health: string;
}

/** The project's containers, seen directly by the machine's docker (not through lab). */
export async function containers(project: string): Promise<Ctr[]> {
  const out = await sh("docker", [
    "ps",
    "-a",
    "--no-trunc",
    "--filter",
    `label=com.docker.compose.project=${project}`,
    "--format",
    "{{.ID}}",
  ]);
  const ids = out.split("\n").filter(Boolean);
  if (!ids.length) return [];
  const list = JSON.parse(await sh("docker", ["inspect", ...ids])) as {
    Id: string;
    Config: { Labels: Record<string, string> };
    State: { Status: string; Health?: { Status: string } };
  }[];
  return list
    .map((c) => {
      const l = c.Config.Labels;
      return {
        id: c.Id,
        service: l["com.docker.compose.service"] ?? "",
        hash: l["com.docker.compose.config-hash"] ?? "",
        status: c.State.Status,
        health: c.State.Health?.Status ?? "-",
      };
    })
    .sort((a, b) => a.service.localeCompare(b.service));
}

export const byService = (cs: Ctr[]): Record<string, Ctr> => Object.fromEntries(cs.map((c) => [c.service, c]));
