// ~/.ssh/config honoured for inventory hosts (own hosts: 127.0.49.x, containers lab-pkg-*):
// the inventory names only `target`; its address, user, port, key and a ProxyJump through
// `jumpbox` (a second test host) come from the ssh config named in lab.config.yaml. Host keys
// stay strict on both hops: either key missing from known_hosts and nothing runs.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHosts, type TestLab } from "../hosts/hosts.ts";
import { inHost, makeProject, type TestProject } from "./project.ts";

let lab: TestLab;
let p: TestProject;
const host = (n: string) => lab.hosts.find((h) => h.name === n)!;

beforeAll(async () => {
  lab = await startHosts({
    prefix: "lab-pkg",
    names: ["jump1", "target1"],
    subnet: "127.0.49",
    stateDir: ".lab/lab-pkg",
  });
  p = await makeProject(lab);
  const [jump, target] = [host("jump1"), host("target1")];
  await p.write(
    "ssh_config",
    `Host target
  HostName ${target.address}
  Port ${target.port}
  ProxyJump jumpbox
Host jumpbox
  HostName ${jump.address}
  Port ${jump.port}
Host *
  User root
  IdentityFile ${lab.keyFile}
`,
  );
  await p.write("lab.config.yaml", "ssh_config: ssh_config\n");
  await knownHosts([jump, target]);
});

afterAll(async () => {
  if (process.env.LAB_KEEP_HOSTS !== "1") await lab?.stop();
});

/** The inventory: one host, nothing about how to reach it but the known_hosts file. */
async function knownHosts(pinned: { address: string; port: number; hostKeyPub: string }[]): Promise<void> {
  const kh = join(p.root, "known_hosts");
  await writeFile(kh, pinned.map((h) => `[${h.address}]:${h.port} ${h.hostKeyPub}\n`).join(""));
  await p.write("inventory/hosts.yaml", `connection: { known_hosts: ${kh} }\nhosts:\n  target: {}\n`);
}

describe("ssh config", () => {
  it("reaches the target through the ProxyJump host, both host keys checked", async () => {
    const r = await p.lab(["exec", "target", "--", "hostname"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^target \| rc=0 /m);
    console.log(`lab exec target -- hostname\n${r.stdout}`); // the README's sample
  });

  it("goes through the jump host: with it stopped, the target is unreachable", async () => {
    await inHost(host("jump1").container, "pkill -STOP sshd");
    try {
      const r = await p.lab(["exec", "target", "--", "true"], { timeoutMs: 60_000 });
      expect(r.code, r.stdout + r.stderr).toBe(4);
    } finally {
      await inHost(host("jump1").container, "pkill -CONT sshd");
    }
  });

  it("an unpinned jump host or target: refused, nothing runs on the target", async () => {
    await knownHosts([host("target1")]);
    const noJump = await p.lab(["exec", "target", "--", "touch /tmp/lab-pkg-ran"]);
    expect(noJump.code).toBe(4);
    expect(noJump.stdout).toContain(`no host key for ${host("jump1").address}:${host("jump1").port}`);
    await knownHosts([host("jump1")]);
    const noTarget = await p.lab(["exec", "target", "--", "touch /tmp/lab-pkg-ran"]);
    expect(noTarget.code).toBe(4);
    expect(noTarget.stdout).toContain(`no host key for ${host("target1").address}:${host("target1").port}`);
    expect((await inHost(host("target1").container, "test -e /tmp/lab-pkg-ran")).code).not.toBe(0);
    await knownHosts([host("jump1"), host("target1")]);
  });
});
