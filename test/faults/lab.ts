// The fault suite's lab: two plain sshd hosts (127.0.33.x: one to hit, one that must finish), a Docker host for the
// Compose stack (127.0.34.2), the Proxmox simulator as its own process (127.0.34.200),
// a local apt repository on every plain host, and a project with the fault playbook
// and two secrets. Started once; a fault that breaks a part gets that part restarted.
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { startHosts, type TestHost, type TestLab } from "../hosts/hosts.ts";
import { startDockerHost, type DockerLab } from "../integration/compose-harness.ts";
import { LAB_BIN, REPO, inHost, makeProject, type TestProject } from "../integration/project.ts";
import { PACKAGE, SECRET_NAMES, SERVICE, STACK } from "./content.ts";
import { INIT_SCRIPT, faultPlaybook } from "./playbook.ts";

export const PREFIX = "lab-it-faults";
const PLAIN_SUBNET = "127.0.33";
const DOCKER_SUBNET = "127.0.34";
const SIM_HOST = "127.0.34.200";
const SIM_PORT = 8006;
const PLAIN = ["f1", "f2"];

export interface Sim {
  url: string;
  caFile: string;
  tokenSecret: string;
  child: ChildProcess;
}

export interface FaultLab {
  plain: TestLab;
  docker: DockerLab;
  project: TestProject;
  env: Record<string, string>;
  /** Secret values by name (only the harness and secrets.age know them). */
  secrets: Record<string, string>;
  sim: () => Sim;
  /** Start the simulator again (same state, certificate and token). */
  restartSim: () => Promise<void>;
  /** The simulator's inventory for a round (its VLAN tags change with the round). */
  writePve: (round: number) => Promise<void>;
  host: (name: string) => TestHost;
  allHosts: () => TestHost[];
  stop: () => Promise<void>;
}

function pveInventory(sim: Sim, round: number): string {
  return stringify({
    proxmox: {
      pve1: {
        url: sim.url,
        node: "pve",
        token_id: "root@pam!lab",
        token_secret: "pve1_token",
        ca_file: sim.caFile,
        task_timeout: 30,
      },
    },
    // The Lab VLAN's tag alternates by round: the bridge, the VNet and the firewall change every round.
    vlans: {
      Trusted: { tag: 10, subnet: "10.33.10.0/24", gateway: "10.33.10.1" },
      Lab: { tag: 40 + (round % 2), subnet: "10.33.40.0/24", isolated: true },
    },
  });
}

async function startSim(stateDir: string): Promise<Sim> {
  const child = spawn(
    "node",
    ["--import", "tsx", join(REPO, "test/faults/sim-child.ts"), stateDir, SIM_HOST, String(SIM_PORT)],
    // stdin stays open as the child's lifeline: it ends with this process, however that dies.
    { stdio: ["pipe", "pipe", "inherit"], cwd: REPO },
  );
  const line = await new Promise<string>((ok, fail) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) ok(out.split("\n")[0]!);
    });
    child.once("exit", (code) => fail(new Error(`simulator exited with ${code} before it listened`)));
  });
  return { ...(JSON.parse(line) as Omit<Sim, "child">), child };
}

/** A local apt repository with one tiny package, copied into each host (no network). */
function buildRepo(): string {
  const repo = mkdtempSync(join(tmpdir(), "lab-faults-apt-"));
  const dir = mkdtempSync(join(tmpdir(), "lab-faults-deb-"));
  mkdirSync(join(dir, "DEBIAN"));
  mkdirSync(join(dir, "usr/share", PACKAGE), { recursive: true });
  writeFileSync(
    join(dir, "DEBIAN/control"),
    `Package: ${PACKAGE}\nVersion: 1.0\nArchitecture: all\nMaintainer: lab tests <root@localhost>\nDescription: lab fault-suite package\n`,
  );
  writeFileSync(join(dir, "usr/share", PACKAGE, "VERSION"), "1.0\n");
  execFileSync("dpkg-deb", ["--root-owner-group", "--build", dir, join(repo, `${PACKAGE}_1.0_all.deb`)], {
    stdio: "ignore",
  });
  execFileSync("sh", ["-c", "dpkg-scanpackages . > Packages 2>/dev/null"], { cwd: repo });
  return repo;
}

const run = (cmd: string, args: string[], opts: { input?: string } = {}) =>
  new Promise<string>((ok, fail) => {
    const c = execFile(cmd, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err ? fail(new Error(`${cmd} ${args.join(" ")}: ${stderr || err.message}`)) : ok(stdout),
    );
    c.stdin?.end(opts.input ?? "");
  });

export async function startFaultLab(): Promise<FaultLab> {
  const [plain, docker] = await Promise.all([
    startHosts({ prefix: PREFIX, names: PLAIN, subnet: PLAIN_SUBNET, stateDir: `.lab/${PREFIX}` }),
    startDockerHost({ prefix: `${PREFIX}-docker`, subnet: DOCKER_SUBNET, projects: [STACK], names: ["d1"] }),
  ]);
  const repo = buildRepo();
  await Promise.all(
    plain.hosts.map(async (h) => {
      // Only the local repository: the image's Debian mirror stays out of the suite.
      await inHost(
        h.container,
        "mv -n /etc/apt/sources.list /etc/apt/sources.list.lab-saved 2>/dev/null; rm -rf /srv/lab-repo; true",
      );
      await run("docker", ["cp", repo, `${h.container}:/srv/lab-repo`]);
      // The init script exists before the first run: a service's facts are read before any step writes.
      await run(
        "docker",
        ["exec", "-i", h.container, "sh", "-c", `cat > /etc/init.d/${SERVICE} && chmod 0755 /etc/init.d/${SERVICE}`],
        { input: INIT_SCRIPT },
      );
    }),
  );

  const simState = await mkdtemp(join(tmpdir(), "lab-faults-sim-"));
  let sim = await startSim(simState);
  const knownHosts = join(plain.stateDir, "known_hosts.all");
  await writeFile(
    knownHosts,
    (await readFile(plain.knownHostsFile, "utf8")) + (await readFile(docker.lab.knownHostsFile, "utf8")),
    { mode: 0o600 },
  );
  const all = [...plain.hosts, ...docker.lab.hosts];
  const project = await makeProject(
    { hosts: all, stateDir: plain.stateDir, keyFile: plain.keyFile, knownHostsFile: knownHosts },
    {
      knownHosts,
      hosts: { d1: { key_file: docker.lab.keyFile } },
      groups: { plain: { hosts: PLAIN }, docker: { hosts: ["d1"] } },
      files: { "playbooks/faults.ts": faultPlaybook(docker.stacksRoot) },
    },
  );
  const env = { LAB_AGE_KEY_FILE: join(project.root, "age.key") };
  const must = async (args: string[], stdin?: string) => {
    const r = await project.lab(args, { env, ...(stdin !== undefined ? { stdin } : {}) });
    if (r.code !== 0) throw new Error(`lab ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  };
  await must(["secrets", "init"]);
  const secrets: Record<string, string> = {};
  for (const name of SECRET_NAMES) {
    secrets[name] = `S3cr3t-${name}-${Math.random().toString(36).slice(2, 12)}`;
    await must(["secrets", "set", name], `${secrets[name]}\n`);
  }
  await must(["secrets", "set", "pve1_token"], sim.tokenSecret);
  const writePve = (round: number) => project.write("inventory/pve.yaml", pveInventory(sim, round));
  await writePve(0);

  return {
    plain,
    docker,
    project,
    env,
    secrets,
    writePve,
    sim: () => sim,
    restartSim: async () => {
      if (sim.child.exitCode === null && sim.child.signalCode === null) return;
      sim = await startSim(simState);
    },
    host: (name) => {
      const h = all.find((x) => x.name === name);
      if (!h) throw new Error(`no host ${name}`);
      return h;
    },
    allHosts: () => all,
    stop: async () => {
      sim.child.kill("SIGTERM");
      await Promise.all([plain.stop(), docker.stop()]);
    },
  };
}

export { LAB_BIN };
