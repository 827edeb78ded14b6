// SSH transport on ssh2: ONE connection per host, reused for every command of
// the run; strict host-key checking against known_hosts; optional bastion.
// Every error path of the connection (client, bastion, forwarded socket,
// channel) has a listener: a dead connection makes its host unreachable, it
// never crashes the run. ADR 0006.
import { readFile } from "node:fs/promises";
import { constants } from "node:os";
import { Client, type ClientChannel, type ConnectConfig } from "ssh2";
import { UnreachableError, errorMessage } from "../errors.ts";
import { sh } from "../sh.ts";
import type { ConnectionInfo } from "../engine/types.ts";
import { algorithmsFor, checkHostKey, fingerprint, hostKeys, pinned, readKnownHosts } from "./known-hosts.ts";
import { connectFailure, lostMessage, type KeyVerdict } from "./ssh-errors.ts";
import { CommandTimeoutError, DEFAULT_TIMEOUT_S } from "./timeouts.ts";
import type { ExecOptions, ExecResult, Transport } from "./types.ts";

type Conn = ConnectionInfo & { name?: string };

/**
 * A frozen host (sshd stopped, network black hole) answers no keepalive: after
 * KEEPALIVE_MS * (KEEPALIVE_COUNT + 1) = 20 s its connection is declared lost.
 */
export const KEEPALIVE_MS = 5000;
export const KEEPALIVE_COUNT = 3;

const CHECK_HOST = "check the host; the next run will converge";

/** One open, verified connection (and the bastion's, when it goes through one). */
export class SshSession {
  /** Why the connection is gone, once it is. */
  lost: string | undefined;
  readonly #onLost = new Set<(reason: string) => void>();
  constructor(
    readonly client: Client,
    readonly jump?: SshSession,
  ) {
    client.on("error", (e: Error) => this.#lose(lostMessage(e)));
    client.on("close", () => this.#lose("the connection closed"));
    jump?.onLost((reason) => this.#lose(`the bastion's connection was lost: ${reason}`));
  }

  /** Called once when the connection dies (at once if it already has). */
  onLost(fn: (reason: string) => void): () => void {
    if (this.lost !== undefined) {
      fn(this.lost);
      return () => undefined;
    }
    this.#onLost.add(fn);
    return () => this.#onLost.delete(fn);
  }

  #lose(reason: string): void {
    if (this.lost !== undefined) return;
    this.lost = reason;
    for (const fn of this.#onLost) fn(reason);
    this.#onLost.clear();
    this.client.end();
    this.jump?.dispose();
  }

  dispose(): void {
    this.client.end();
    this.jump?.dispose();
  }
}

/** Open a verified connection (through the bastion when one is set). `accept` (lab hosts trust) sees and accepts any key. */
export async function connectSsh(host: string, conn: Conn, accept?: (blob: Buffer) => void): Promise<SshSession> {
  const label = `${conn.address}:${conn.port}`;
  const keys = hostKeys(await readKnownHosts(conn.knownHosts), conn.address, conn.port);
  const pins = pinned(keys);
  if (!accept && pins.length === 0) {
    throw new UnreachableError(
      host,
      `no host key for ${label} in ${conn.knownHosts} (strict host-key checking)`,
      `verify the host's key fingerprint out of band, then run: lab hosts trust ${host}`,
    );
  }
  let verdict: KeyVerdict;
  const config: ConnectConfig = {
    host: conn.address,
    port: conn.port,
    username: conn.user,
    readyTimeout: conn.connectTimeoutMs,
    keepaliveInterval: KEEPALIVE_MS,
    keepaliveCountMax: KEEPALIVE_COUNT,
    ...(conn.keyFile ? { privateKey: await readKey(host, conn.keyFile) } : { agent: process.env.SSH_AUTH_SOCK }),
    // Only the algorithms of pinned keys: otherwise ssh2 may negotiate a type we have no pin for.
    ...(!accept
      ? { algorithms: { serverHostKey: [...new Set(pins.flatMap((k) => algorithmsFor(k.type)))] as never } }
      : {}),
    hostVerifier: (key: Buffer) => {
      if (accept) {
        accept(key);
        return true;
      }
      verdict = { offered: key, result: checkHostKey(keys, key) };
      return verdict.result === "ok";
    },
  };
  const jump = conn.bastion ? await connectSsh(host, conn.bastion) : undefined;
  try {
    if (jump) config.sock = await forward(jump, conn.address, conn.port, host);
    const client = await openClient(config);
    return new SshSession(client, jump);
  } catch (e) {
    jump?.dispose();
    if (e instanceof UnreachableError) throw e;
    throw connectFailure(
      host,
      conn,
      e,
      verdict,
      pins.map((k) => fingerprint(k.blob)),
    );
  }
}

async function readKey(host: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new UnreachableError(
      host,
      `cannot read the SSH key file ${file}: ${errorMessage(e)}`,
      "fix key_file in the inventory (or leave it out to use ssh-agent)",
      { cause: e },
    );
  }
}

/** Connect a client; its 'error' listener stays for its whole life (an error after 'ready' then reaches SshSession, never the process). */
function openClient(config: ConnectConfig): Promise<Client> {
  const client = new Client();
  return new Promise((resolve, reject) => {
    client.on("error", reject);
    client.once("ready", () => resolve(client));
    client.once("close", () => reject(new Error("the connection closed during the handshake")));
    try {
      client.connect(config);
    } catch (e) {
      reject(e instanceof Error ? e : new Error(String(e))); // a key ssh2 cannot parse is thrown here
    }
  });
}

function forward(jump: SshSession, address: string, port: number, host: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    const bail = (reason: string) =>
      reject(
        new UnreachableError(
          host,
          `bastion cannot reach ${address}:${port}: ${reason}`,
          "check the bastion's AllowTcpForwarding and routes",
        ),
      );
    const off = jump.onLost(bail);
    jump.client.forwardOut("127.0.0.1", 0, address, port, (err, stream) => {
      off();
      if (err) return bail(err.message);
      // The inner client listens on its socket; this keeps a late error on the channel itself from going unheard.
      stream.on("error", () => undefined);
      resolve(stream);
    });
  });
}

export class SshTransport implements Transport {
  #session: Promise<SshSession> | undefined;
  #conn: ConnectionInfo | undefined;
  constructor(
    readonly host: string,
    /** The connection, or how to learn it (a VM's address comes from its guest agent). */
    private readonly conn: ConnectionInfo | (() => Promise<ConnectionInfo>),
  ) {}

  #connection(): Promise<SshSession> {
    this.#session ??= (typeof this.conn === "function" ? this.conn() : Promise.resolve(this.conn)).then((c) => {
      this.#conn = c;
      return connectSsh(this.host, c);
    });
    return this.#session;
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const session = await this.#connection();
    const c = this.#conn!;
    const line = c.become && c.user !== "root" ? sh`sudo -n -- sh -c ${command}` : command;
    const limit = options.timeoutMs ?? DEFAULT_TIMEOUT_S.command * 1000;
    if (session.lost !== undefined)
      throw new UnreachableError(this.host, `connection lost: ${session.lost}`, CHECK_HOST, { command });
    return new Promise<ExecResult>((resolve, reject) => {
      let channel: ClientChannel | undefined;
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        off();
        fn();
      };
      const lost = (reason: string) =>
        finish(() =>
          reject(
            new UnreachableError(this.host, `connection lost while running a command: ${reason}`, CHECK_HOST, {
              command,
            }),
          ),
        );
      const off = session.onLost(lost);
      const timer = setTimeout(
        () =>
          finish(() => {
            stop(channel);
            reject(new CommandTimeoutError(this.host, command, limit));
          }),
        limit,
      );
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let exit: { code: number | null; signal?: string } | undefined;
      session.client.exec(line, (err, ch) => {
        if (err) return lost(err.message);
        channel = ch;
        if (settled) return stop(ch); // timed out or lost while the channel was opening
        ch.on("error", (e: Error) => lost(e.message));
        ch.stderr.on("error", (e: Error) => lost(e.message));
        ch.on("data", (d: Buffer) => stdout.push(d));
        ch.stderr.on("data", (d: Buffer) => stderr.push(d));
        ch.on("exit", (code: number | null, signal?: string) => (exit = { code, ...(signal ? { signal } : {}) }));
        ch.on("close", () => {
          // The connection's own 'close' comes first when it died; give it that turn.
          setImmediate(() => {
            if (!exit) return lost(session.lost ?? "the command ended without an exit status");
            const err = Buffer.concat(stderr).toString();
            const { code, signal } = exit;
            finish(() =>
              resolve({
                stdout: Buffer.concat(stdout).toString(),
                stderr: signal ? `${err}${err && !err.endsWith("\n") ? "\n" : ""}killed by signal ${signal}\n` : err,
                code:
                  code ?? 128 + (constants.signals[`SIG${signal ?? "KILL"}` as keyof typeof constants.signals] ?? 9),
              }),
            );
          });
        });
        ch.end(options.stdin === undefined ? undefined : Buffer.from(options.stdin));
      });
    });
  }

  async close(): Promise<void> {
    const session = await this.#session?.catch(() => undefined);
    session?.dispose();
  }
}

/** Stop a command: signal it (OpenSSH honours "signal" requests), then close its channel. */
function stop(ch: ClientChannel | undefined): void {
  try {
    ch?.signal("KILL");
    ch?.close();
  } catch {
    // The channel is already gone: nothing left to stop.
  }
}
