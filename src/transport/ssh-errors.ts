// What a failed SSH connection is called, and what to do about it. Only a key
// that really differs from every pin (or is revoked) is reported as a changed
// host key: crying "interception" at a refused login or a crashed sshd trains
// users to re-pin keys, which is what an attacker needs.
import { UnreachableError, errorMessage } from "../errors.ts";
import type { ConnectionInfo } from "../engine/types.ts";
import { fingerprint } from "./known-hosts.ts";

/** What the host-key check decided, when the host got as far as offering a key. */
export type KeyVerdict = { offered: Buffer; result: "ok" | "revoked" | "changed" } | undefined;

interface SshError {
  message: string;
  level?: string;
  code?: string;
}

const parts = (e: unknown): SshError => {
  const x = e as Partial<SshError> | undefined;
  return {
    message: errorMessage(e),
    ...(typeof x?.level === "string" ? { level: x.level } : {}),
    ...(typeof x?.code === "string" ? { code: x.code } : {}),
  };
};

export function connectFailure(
  host: string,
  conn: ConnectionInfo & { name?: string },
  e: unknown,
  verdict: KeyVerdict,
  pins: string[],
): UnreachableError {
  const label = `${conn.address}:${conn.port}`;
  const who = `${conn.user}@${label}`;
  const fail = (message: string, hint: string) => new UnreachableError(host, message, hint, { cause: e });
  if (verdict && verdict.result !== "ok") {
    return verdict.result === "revoked"
      ? fail(
          `REVOKED host key for ${label}: the host offered ${fingerprint(verdict.offered)}, which ${conn.knownHosts} marks @revoked`,
          "do not connect to this host until you know why it still uses a revoked key (a stolen or retired key); reinstall its host keys, then pin the new one with: lab hosts trust " +
            host,
        )
      : fail(
          `CHANGED host key for ${label}: the host offered ${fingerprint(verdict.offered)}, but ${conn.knownHosts} pins ${pins.join(", ")}`,
          `the host was reinstalled or someone is intercepting the connection; compare the new fingerprint with the host's console; only if it is genuine, remove the old line from ${conn.knownHosts} and run: lab hosts trust ${host}`,
        );
  }
  const { message, level, code } = parts(e);
  const by = conn.name ? ` (through bastion ${conn.name})` : "";
  if (level === "client-authentication") {
    const key = conn.keyFile ? `key ${conn.keyFile}` : "the keys of ssh-agent ($SSH_AUTH_SOCK)";
    return fail(
      `authentication refused for ${who} with ${key}${by}`,
      `the host key is fine; check the user name and that the public half of ${conn.keyFile ?? "an agent key"} is in ~${conn.user}/.ssh/authorized_keys on the host`,
    );
  }
  if (/privateKey|private key|passphrase/i.test(message) && conn.keyFile) {
    return fail(
      `cannot use the SSH key ${conn.keyFile}: ${message}`,
      "point key_file at an unencrypted private key, or leave it out and load the key into ssh-agent",
    );
  }
  if (code === "ECONNREFUSED")
    return fail(
      `connection refused by ${label}${by}`,
      "is sshd running on the host and listening on that address and port?",
    );
  if (level === "client-timeout" || code === "ETIMEDOUT") {
    return fail(
      `timed out after ${conn.connectTimeoutMs / 1000} s connecting to ${who}${by}`,
      "the host may be down, frozen or behind a firewall; connect_timeout (seconds) sets the limit",
    );
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || level === "client-dns")
    return fail(`cannot resolve ${conn.address}`, "check the host's address in the inventory");
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH")
    return fail(`no route to ${label}`, "check the network between this machine and the host");
  return fail(
    `the SSH handshake with ${who} was aborted${verdict ? " after its host key was verified" : ""}: ${message}`,
    "sshd closed or reset the connection before login finished (it crashed or restarted, hit MaxStartups, or a firewall reset it); the host key is not in question; try again",
  );
}

/** One line for a connection that died after login. */
export function lostMessage(e: unknown): string {
  const { message, level, code } = parts(e);
  if (/keepalive/i.test(message))
    return `no answer to keepalives (${message}): the host or its sshd is frozen, or the network dropped`;
  if (code === "ECONNRESET" || code === "ECONNABORTED" || code === "EPIPE") return `the connection was reset (${code})`;
  return level ? `${message} (${level})` : message;
}
