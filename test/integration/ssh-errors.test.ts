// A failed connection says what failed: only a key that really differs from the
// pins (or is revoked) is called CHANGED/REVOKED; a refused login, an unusable
// key file, sshd dying mid-handshake, a refused connection and a timeout each get
// their own message and hint, never the interception alarm.
import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestLab } from "../hosts/hosts.ts";
import { fingerprint } from "../../src/transport/known-hosts.ts";
import { inHost, makeProject, type LabRun } from "./project.ts";
import { freezeSshd, startTransportHosts, waitFor } from "./transport-hosts.ts";

const MARK = `
import { definePlaybook, inline, file } from "@lab";
export default definePlaybook({ name: "mark", plays: [{ name: "mark", hosts: "all", roles: (h) => [inline([file({ path: "/tmp/lab-mark-" + h.name, content: "x\\n" })])] }] });
`;

let lab: TestLab;
const t1 = () => lab.hosts[0]!;
const fp = (pub: string) => fingerprint(Buffer.from(pub.split(" ")[1]!, "base64"));

beforeAll(async () => {
  lab = await startTransportHosts(["t1", "t2"]);
}, 120_000);
afterAll(async () => {
  if (lab) await freezeSshd(t1().container, false).catch(() => undefined);
  await lab?.stop();
});

async function applyT1(host: Record<string, unknown>, knownHosts?: string): Promise<LabRun> {
  const p = await makeProject(lab, {
    groups: {},
    hosts: { t1: host },
    ...(knownHosts ? { knownHosts } : {}),
    files: { "playbooks/site.ts": MARK },
  });
  return p.lab(["apply", "-y", "--limit", "t1"]);
}

/** Unreachable (exit 4), this message and hint, and no interception alarm. */
function expectNotAlarm(r: LabRun, message: string, hint: string): void {
  expect(r.code, r.stderr).toBe(4);
  expect(r.stderr).toContain(message);
  expect(r.stderr).toContain(hint);
  expect(r.stderr + r.stdout).not.toMatch(/CHANGED|REVOKED|intercept/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe("not a host-key problem", () => {
  it("an unauthorized key: authentication refused, naming user, address and key file", async () => {
    const key = join(lab.stateDir, "stranger");
    execFileSync("sh", ["-c", `rm -f ${key} ${key}.pub && ssh-keygen -q -t ed25519 -N '' -f ${key}`]);
    expectNotAlarm(
      await applyT1({ key_file: key }),
      `authentication refused for root@${t1().address}:2222 with key ${key}`,
      `is in ~root/.ssh/authorized_keys on the host`,
    );
  });

  it("a user the host does not know: authentication refused for that user", async () => {
    expectNotAlarm(
      await applyT1({ user: "nosuchuser" }),
      `authentication refused for nosuchuser@${t1().address}:2222 with key ${lab.keyFile}`,
      "check the user name",
    );
  });

  it("a key file that is not a private key, or is missing", async () => {
    expectNotAlarm(
      await applyT1({ key_file: `${lab.keyFile}.pub` }),
      `cannot use the SSH key ${lab.keyFile}.pub`,
      "unencrypted private key",
    );
    expectNotAlarm(
      await applyT1({ key_file: join(lab.stateDir, "no-such-key") }),
      `cannot read the SSH key file ${join(lab.stateDir, "no-such-key")}`,
      "fix key_file",
    );
  });

  it("sshd killed during the handshake (after the host key was verified): handshake aborted", async () => {
    // A second sshd on port 2223 whose key lookup blocks: the connection waits mid-login, and then its sshd is killed.
    await inHost(
      t1().container,
      `printf '#!/bin/sh\\ntouch /tmp/slowkeys-called\\nsleep 30\\n' > /usr/local/bin/lab-slowkeys && chmod 755 /usr/local/bin/lab-slowkeys && rm -f /tmp/slowkeys-called
      /usr/sbin/sshd -p 2223 -o ListenAddress=${t1().address} -h /etc/ssh/ssh_host_ed25519_key -o PidFile=/run/sshd-slow.pid -o AuthorizedKeysCommand=/usr/local/bin/lab-slowkeys -o AuthorizedKeysCommandUser=root -o AuthorizedKeysFile=none`,
    );
    const kh = join(lab.stateDir, "known_hosts.2223");
    await writeFile(kh, `[${t1().address}]:2223 ${t1().hostKeyPub}\n`);
    const p = await makeProject(lab, {
      groups: {},
      hosts: { t1: { port: 2223 } },
      knownHosts: kh,
      files: { "playbooks/site.ts": MARK },
    });
    const run = p.lab(["apply", "-y", "--limit", "t1"]);
    await waitFor(
      "sshd looks up the login key",
      async () => (await inHost(t1().container, "test -e /tmp/slowkeys-called && echo y")).stdout.trim() === "y",
    );
    await inHost(t1().container, "pkill -KILL -P $(cat /run/sshd-slow.pid)");
    const r = await run;
    await inHost(t1().container, "kill $(cat /run/sshd-slow.pid)");
    expectNotAlarm(
      r,
      `the SSH handshake with root@${t1().address}:2223 was aborted after its host key was verified`,
      "the host key is not in question",
    );
  });

  it("nothing listening: connection refused", async () => {
    const kh = join(lab.stateDir, "known_hosts.2299");
    await writeFile(kh, `[${t1().address}]:2299 ${t1().hostKeyPub}\n`);
    expectNotAlarm(await applyT1({ port: 2299 }, kh), `connection refused by ${t1().address}:2299`, "is sshd running");
  });

  it("a frozen sshd before login: timed out after connect_timeout", async () => {
    await freezeSshd(t1().container, true);
    try {
      expectNotAlarm(
        await applyT1({ connect_timeout: 2 }),
        `timed out after 2 s connecting to root@${t1().address}:2222`,
        "down, frozen or behind a firewall",
      );
    } finally {
      await freezeSshd(t1().container, false);
    }
  });
});

describe("a real host-key problem", () => {
  it("a key that differs from the pin: CHANGED, with the offered and the pinned fingerprints", async () => {
    const kh = join(lab.stateDir, "known_hosts.changed");
    await writeFile(kh, `[${t1().address}]:2222 ${lab.hosts[1]!.hostKeyPub}\n`);
    const r = await applyT1({}, kh);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(
      `CHANGED host key for ${t1().address}:2222: the host offered ${fp(t1().hostKeyPub)}, but ${kh} pins ${fp(lab.hosts[1]!.hostKeyPub)}`,
    );
    expect(fp(t1().hostKeyPub)).not.toBe(fp(lab.hosts[1]!.hostKeyPub));
  });

  it("a pinned key that is also @revoked: REVOKED", async () => {
    const kh = join(lab.stateDir, "known_hosts.revoked");
    await writeFile(kh, `${await readFile(lab.knownHostsFile, "utf8")}@revoked * ${t1().hostKeyPub}\n`);
    const r = await applyT1({}, kh);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(
      `REVOKED host key for ${t1().address}:2222: the host offered ${fp(t1().hostKeyPub)}, which ${kh} marks @revoked`,
    );
  });
});
