// Real sshd test hosts: one `--network host` container per host, each sshd bound to
// its own 127.0.0.x address (so every host is a distinct endpoint on one port) with
// its own ed25519 host key (so host-key pinning is tested for real).
//
// Library: startHosts(...) -> TestLab.  CLI (prints the lab as JSON):
//   npx tsx test/hosts/hosts.ts start --prefix lab-demo --subnet 127.0.20 --state .lab/demo web1 web2 db1=lab-testhost-pg:bookworm
//   (NAME=IMAGE: that host from another image; --image is the others')
//   npx tsx test/hosts/hosts.ts stop --prefix lab-demo
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile, access } from "node:fs/promises";
import { createConnection } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

export const DEFAULT_IMAGE = "lab-testhost:bookworm";
const PREFIX_LABEL = "lab.testhost.prefix";
const READY_TIMEOUT_MS = 20_000;

export interface TestHost {
  name: string;
  address: string;
  port: number;
  container: string;
  /** "ssh-ed25519 AAAA..." (no comment): the line to pin. */
  hostKeyPub: string;
}

/** The serializable part of a lab (what vitest's provide/inject can carry). */
export interface TestLabData {
  hosts: TestHost[];
  stateDir: string;
  /** Client private key (its public key is every host's root authorized_keys). */
  keyFile: string;
  /** `[ADDR]:PORT ssh-ed25519 ...` for every host. */
  knownHostsFile: string;
}

export interface TestLab extends TestLabData {
  /** Remove every container of the lab. */
  stop: () => Promise<void>;
  /** Kill one host (its sshd and container): it then refuses connections. */
  stopHost: (name: string) => Promise<void>;
}

/** The plain data of a lab (drops the methods), e.g. for JSON or vitest's provide(). */
export function labData({ hosts, stateDir, keyFile, knownHostsFile }: TestLabData): TestLabData {
  return { hosts, stateDir, keyFile, knownHostsFile };
}

export interface StartOptions {
  /** Container names are `${prefix}-${name}`; re-running with a prefix replaces its containers. */
  prefix: string;
  names: string[];
  /** First three octets inside 127.0.0.0/8, e.g. "127.0.10": hosts get .2, .3, ... */
  subnet: string;
  /** sshd port on every address (default 2222). */
  port?: number;
  stateDir: string;
  /** Image per host name, where it differs from `image`. */
  images?: Record<string, string>;
  image?: string;
  extraDockerArgs?: string[];
}

async function docker(...args: string[]): Promise<string> {
  try {
    return (await run("docker", args, { maxBuffer: 16 << 20 })).stdout.trim();
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`docker ${args.slice(0, 2).join(" ")} failed: ${(err.stderr ?? err.message).trim()}`);
  }
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** An ed25519 key pair at `file`/`file.pub`, kept if present (stable identity across restarts). */
async function ensureKey(file: string, comment: string): Promise<string> {
  if (!(await exists(file))) {
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
  }
  return (await readFile(`${file}.pub`, "utf8")).trim();
}

function addresses(subnet: string, count: number): string[] {
  const m = /^127\.(\d{1,3})\.(\d{1,3})$/.exec(subnet);
  if (!m || Number(m[1]) > 255 || Number(m[2]) > 255) {
    throw new Error(`subnet must be "127.X.Y" (loopback only), got ${JSON.stringify(subnet)}`);
  }
  if (count > 253) throw new Error(`at most 253 hosts per subnet, asked for ${count}`);
  return Array.from({ length: count }, (_, i) => `${subnet}.${i + 2}`);
}

/** Resolves once sshd sends its banner: a listening socket alone could be docker-proxy or a stale sshd. */
function sshBanner(address: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const sock = createConnection({ host: address, port });
    const finish = (ok: boolean) => {
      sock.destroy();
      done(ok);
    };
    sock.setTimeout(2000, () => finish(false));
    sock.once("error", () => finish(false));
    sock.once("data", (d) => finish(d.toString().startsWith("SSH-2.0-")));
  });
}

async function waitReady(host: TestHost): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await sshBanner(host.address, host.port)) return;
    const state = await docker("inspect", "-f", "{{.State.Running}}", host.container).catch(() => "gone");
    if (state !== "true") {
      const logs = await run("docker", ["logs", "--tail", "20", host.container]).then(
        (r) => r.stdout + r.stderr,
        () => "",
      );
      throw new Error(`test host ${host.name}: container ${host.container} is not running:\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `test host ${host.name}: sshd on ${host.address}:${host.port} not ready within ${READY_TIMEOUT_MS / 1000} s`,
  );
}

/** Remove every container started with this prefix (by label, so names never collide by accident). */
export async function stopPrefix(prefix: string): Promise<void> {
  const ids = await docker("ps", "-aq", "--filter", `label=${PREFIX_LABEL}=${prefix}`);
  if (ids) await docker("rm", "-f", ...ids.split(/\s+/));
}

/** Rebuild the methods of a lab from its data (e.g. in a vitest worker after inject()). */
export function labHandle(data: TestLabData): TestLab {
  return {
    ...data,
    stop: async () => {
      const names = data.hosts.map((h) => h.container);
      if (names.length) await docker("rm", "-f", ...names);
    },
    stopHost: async (name) => {
      const host = data.hosts.find((h) => h.name === name);
      if (!host) throw new Error(`no test host ${name} (have ${data.hosts.map((h) => h.name).join(", ")})`);
      await docker("rm", "-f", host.container);
    },
  };
}

/** Build the image if missing (no-op in ~50 ms when present). */
export async function buildImage(image = DEFAULT_IMAGE): Promise<void> {
  const script = join(dirname(fileURLToPath(import.meta.url)), "build-image.sh");
  const child = execFile("bash", [script], { env: { ...process.env, LAB_TESTHOST_IMAGE: image } });
  child.stderr?.pipe(process.stderr);
  await new Promise<void>((ok, fail) =>
    child.once("exit", (code) => (code === 0 ? ok() : fail(new Error(`${script} exited with ${code}`)))),
  );
}

export async function startHosts(opts: StartOptions): Promise<TestLab> {
  const { prefix, names, port = 2222, image = DEFAULT_IMAGE, extraDockerArgs = [] } = opts;
  if (new Set(names).size !== names.length) throw new Error(`duplicate host names: ${names.join(" ")}`);
  const stateDir = resolve(opts.stateDir);
  const addrs = addresses(opts.subnet, names.length);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await stopPrefix(prefix);

  const keyFile = join(stateDir, "id_ed25519");
  const clientPub = await ensureKey(keyFile, `lab-test-client@${prefix}`);

  // Host network shares the machine's /etc/hosts: name every lab host so `sudo` (which
  // resolves its own hostname) stays quiet and hosts can reach each other by name.
  const addHosts = names.flatMap((n, i) => ["--add-host", `${n}:${addrs[i]!}`]);
  const hosts = await Promise.all(
    names.map(async (name, i): Promise<TestHost> => {
      const address = addrs[i]!;
      const dir = join(stateDir, "hosts", name);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const hostKey = join(dir, "ssh_host_ed25519_key");
      // Drop the comment: known_hosts lines and pins compare "type base64".
      const hostKeyPub = (await ensureKey(hostKey, `root@${name}`)).split(/\s+/).slice(0, 2).join(" ");
      const container = `${prefix}-${name}`;
      await docker(
        "run",
        "-d",
        "--init",
        "--name",
        container,
        "--hostname",
        name,
        "--network",
        "host",
        ...addHosts,
        "--label",
        `${PREFIX_LABEL}=${prefix}`,
        // As on a real host, root may read other users' /proc/PID/exe: init scripts find their
        // daemon by it (start-stop-daemon --exec), e.g. prometheus-node-exporter's.
        "--cap-add",
        "SYS_PTRACE",
        "-v",
        `${hostKey}:/etc/ssh/ssh_host_ed25519_key:ro`,
        "-e",
        `LAB_AUTHORIZED_KEYS=${clientPub}`,
        ...extraDockerArgs,
        opts.images?.[name] ?? image,
        "/usr/sbin/sshd",
        "-D",
        "-e",
        "-o",
        `ListenAddress=${address}`,
        "-p",
        String(port),
        "-h",
        "/etc/ssh/ssh_host_ed25519_key",
      );
      return { name, address, port, container, hostKeyPub };
    }),
  );

  const knownHostsFile = join(stateDir, "known_hosts");
  const hostPattern = (h: TestHost) => (h.port === 22 ? h.address : `[${h.address}]:${h.port}`);
  await writeFile(knownHostsFile, hosts.map((h) => `${hostPattern(h)} ${h.hostKeyPub}\n`).join(""), { mode: 0o600 });

  const lab = labHandle({ hosts, stateDir, keyFile, knownHostsFile });
  try {
    await Promise.all(hosts.map(waitReady));
  } catch (e) {
    await lab.stop();
    throw e;
  }
  return lab;
}

async function cli(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const flags: Record<string, string> = {};
  const names: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg.startsWith("--")) flags[arg.slice(2)] = rest[++i] ?? "";
    else names.push(arg);
  }
  const usage =
    "usage: hosts.ts start --prefix P --subnet 127.X.Y --state DIR [--port N] [--image I] [--docker-args ARGS] NAME...\n       hosts.ts stop --prefix P";
  if (!flags.prefix) throw new Error(usage);
  if (command === "stop") return stopPrefix(flags.prefix);
  if (command !== "start" || !flags.subnet || !flags.state || names.length === 0) throw new Error(usage);
  const image = flags.image ?? DEFAULT_IMAGE;
  await buildImage(image);
  const images = Object.fromEntries(
    names.filter((n) => n.includes("=")).map((n) => n.split("=", 2) as [string, string]),
  );
  const lab = await startHosts({
    prefix: flags.prefix,
    names: names.map((n) => n.split("=")[0]!),
    subnet: flags.subnet,
    stateDir: flags.state,
    image,
    images,
    ...(flags.port ? { port: Number(flags.port) } : {}),
    ...(flags["docker-args"] ? { extraDockerArgs: flags["docker-args"].split(/\s+/).filter(Boolean) } : {}),
  });
  console.log(JSON.stringify(labData(lab), null, 2));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
