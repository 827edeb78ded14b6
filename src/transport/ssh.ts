// SSH transport on node-ssh: ONE connection per host, reused for every command
// of the run; strict host-key checking against known_hosts; optional bastion.
import { Readable } from "node:stream";
import { NodeSSH, type Config } from "node-ssh";
import type { ClientChannel } from "ssh2";
import { UnreachableError, errorMessage } from "../errors.ts";
import { sh } from "../sh.ts";
import type { ConnectionInfo } from "../engine/types.ts";
import { algorithmsFor, findKeys, fingerprint, readKnownHosts } from "./known-hosts.ts";
import type { ExecOptions, ExecResult, Transport } from "./types.ts";

type Conn = ConnectionInfo & { name?: string };

/** Open a verified connection (through the bastion when one is set). */
export async function connectSsh(host: string, conn: Conn, accept?: (blob: Buffer) => void): Promise<NodeSSH> {
  const label = `${conn.address}:${conn.port}`;
  const known = findKeys(await readKnownHosts(conn.knownHosts), conn.address, conn.port);
  if (!accept && known.length === 0) {
    throw new UnreachableError(host, `no host key for ${label} in ${conn.knownHosts} (strict host-key checking)`,
      `verify the host's key fingerprint out of band, then run: lab hosts trust ${host}`);
  }
  let offered: Buffer | undefined;
  const config: Config = {
    host: conn.address,
    port: conn.port,
    username: conn.user,
    readyTimeout: conn.connectTimeoutMs,
    keepaliveInterval: 5000,
    keepaliveCountMax: 3,
    ...(conn.keyFile ? { privateKeyPath: conn.keyFile } : { agent: process.env.SSH_AUTH_SOCK }),
    // Only the algorithms of pinned keys: otherwise ssh2 may negotiate a type we have no pin for.
    ...(known.length && !accept ? { algorithms: { serverHostKey: [...new Set(known.flatMap((k) => algorithmsFor(k.type)))] as never } } : {}),
    hostVerifier: (key: Buffer) => {
      offered = key;
      if (accept) {
        accept(key);
        return true;
      }
      return known.some((k) => !k.revoked && k.blob.equals(key));
    },
  };
  let jump: NodeSSH | undefined;
  if (conn.bastion) {
    jump = await connectSsh(host, conn.bastion);
    config.sock = await forward(jump, conn.address, conn.port, host);
  }
  const ssh = new NodeSSH();
  try {
    await ssh.connect(config);
  } catch (e) {
    jump?.dispose();
    if (offered && !accept) {
      const revoked = known.some((k) => k.revoked && k.blob.equals(offered!));
      throw new UnreachableError(host,
        `${revoked ? "REVOKED" : "CHANGED"} host key for ${label}: got ${fingerprint(offered)}, pinned in ${conn.knownHosts}: ${known.map((k) => fingerprint(k.blob)).join(", ")}`,
        `the host was reinstalled or someone is intercepting the connection; if the new key is genuine, remove the old line from ${conn.knownHosts} and run: lab hosts trust ${host}`);
    }
    throw new UnreachableError(host, `cannot connect to ${conn.user}@${label}: ${errorMessage(e)}`,
      "check that the host is up, sshd listens there and the key is authorized", { cause: e });
  }
  if (jump) ssh.connection?.on("close", () => jump.dispose());
  return ssh;
}

function forward(jump: NodeSSH, address: string, port: number, host: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    jump.connection?.forwardOut("127.0.0.1", 0, address, port, (err, stream) => {
      if (err) reject(new UnreachableError(host, `bastion cannot reach ${address}:${port}: ${err.message}`, "check the bastion's AllowTcpForwarding and routes"));
      else resolve(stream);
    });
  });
}

export class SshTransport implements Transport {
  #ssh: Promise<NodeSSH> | undefined;
  #closed = false;
  #conn: ConnectionInfo | undefined;
  constructor(
    readonly host: string,
    /** The connection, or how to learn it (a VM's address comes from its guest agent). */
    private readonly conn: ConnectionInfo | (() => Promise<ConnectionInfo>),
  ) {}

  #connection(): Promise<NodeSSH> {
    this.#ssh ??= (typeof this.conn === "function" ? this.conn() : Promise.resolve(this.conn)).then((c) => {
      this.#conn = c;
      return connectSsh(this.host, c);
    }).then((ssh) => {
      ssh.connection?.on("close", () => (this.#closed = true));
      return ssh;
    });
    return this.#ssh;
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const ssh = await this.#connection();
    if (this.#closed) throw new UnreachableError(this.host, "connection lost", "check the host; the next run will converge");
    const c = this.#conn!;
    const line = c.become && c.user !== "root" ? sh`sudo -n -- sh -c ${command}` : command;
    let channel: ClientChannel | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const run = ssh.execCommand(line, {
        noTrim: true,
        ...(options.stdin !== undefined ? { stdin: Readable.from([Buffer.from(options.stdin)]) } : {}),
        onChannel: (c) => (channel = c),
      });
      const timeout = new Promise<never>((_, reject) => {
        if (options.timeoutMs) timer = setTimeout(() => {
          channel?.close();
          reject(new Error(`command timed out after ${options.timeoutMs} ms`));
        }, options.timeoutMs);
      });
      const r = await Promise.race([run, timeout]);
      if (r.code === null) throw new Error(`command ended by signal ${r.signal ?? "?"} (connection dropped?)`);
      return { stdout: r.stdout, stderr: r.stderr, code: r.code };
    } catch (e) {
      if (e instanceof UnreachableError) throw e;
      throw new UnreachableError(this.host, `lost the connection while running a command: ${errorMessage(e)}`, "check the host; the next run will converge", { cause: e });
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    const ssh = await this.#ssh?.catch(() => undefined);
    ssh?.dispose();
  }
}
