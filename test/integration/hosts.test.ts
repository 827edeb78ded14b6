// Proves the harness itself with the plain OpenSSH client: distinct hosts, distinct
// filesystems, and host keys that are really checked.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, inject, it } from "vitest";
import { startHosts, type TestHost } from "../hosts/hosts.ts";

const run = promisify(execFile);
const lab = inject("testLab");

async function ssh(host: TestHost, command: string, { knownHosts = lab.knownHostsFile, keyFile = lab.keyFile } = {}) {
  const args = [
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${knownHosts}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "ConnectTimeout=5",
    "-i",
    keyFile,
    "-p",
    String(host.port),
    `root@${host.address}`,
    command,
  ];
  return run("ssh", args).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

describe("test hosts", () => {
  it("are three hosts on their own loopback addresses", () => {
    expect(lab.hosts.map((h) => h.name)).toEqual(["web1", "web2", "db1"]);
    expect(lab.hosts.map((h) => h.address)).toEqual(["127.0.10.2", "127.0.10.3", "127.0.10.4"]);
    expect(new Set(lab.hosts.map((h) => h.hostKeyPub)).size).toBe(3);
  });

  it("each answers with its own hostname", async () => {
    for (const host of lab.hosts) {
      const r = await ssh(host, "hostname");
      expect(r, r.stderr).toMatchObject({ code: 0, stdout: `${host.name}\n` });
    }
  });

  it("have distinct filesystems", async () => {
    const [web1, web2] = lab.hosts;
    const marker = `/root/marker-${process.pid}-${Date.now()}`;
    expect((await ssh(web1!, `touch ${marker} && test -f ${marker}`)).code).toBe(0);
    expect((await ssh(web2!, `test -e ${marker}`)).code).toBe(1);
    await ssh(web1!, `rm -f ${marker}`);
  });

  it("reject a wrong host key", async () => {
    const [web1, web2] = lab.hosts;
    // Pin web2's key for web1's address: a real MITM would look exactly like this.
    const wrong = join(lab.stateDir, "known_hosts.wrong");
    await writeFile(wrong, `[${web1!.address}]:${web1!.port} ${web2!.hostKeyPub}\n`);
    const r = await ssh(web1!, "true", { knownHosts: wrong });
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  });

  it("stopHost kills a host: its sshd refuses connections", async () => {
    // A private one-host lab, so the shared hosts stay up for the other files.
    const own = await startHosts({
      prefix: "lab-it-stop",
      names: ["gone1"],
      subnet: "127.0.11",
      stateDir: join(lab.stateDir, "stop"),
    });
    try {
      const [gone1] = own.hosts;
      const opts = { knownHosts: own.knownHostsFile, keyFile: own.keyFile };
      expect(await ssh(gone1!, "hostname", opts)).toMatchObject({ code: 0, stdout: "gone1\n" });
      await own.stopHost("gone1");
      const r = await ssh(gone1!, "true", opts);
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/Connection refused/);
    } finally {
      await own.stop();
    }
  });
});
