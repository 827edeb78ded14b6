// The everyday commands over real sshd hosts (own hosts: 127.0.43.x, containers
// lab-it-daily-*): `lab hosts trust` of a group and of several hosts, `lab exec`
// (parallel, per-host rc, strict host keys, audit), `lab facts`, and `file` with
// `validate` (visudo) refusing a broken sudoers file.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHosts, type TestLab } from "../hosts/hosts.ts";
import { inHost, makeProject, type TestProject } from "./project.ts";

let lab: TestLab;
let p: TestProject;
const host = (n: string) => lab.hosts.find((h) => h.name === n)!;

beforeAll(async () => {
  lab = await startHosts({
    prefix: "lab-it-daily",
    names: ["web1", "web2", "db1"],
    subnet: "127.0.43",
    stateDir: ".lab/lab-it-daily",
  });
  p = await makeProject(lab);
});

afterAll(async () => {
  if (process.env.LAB_KEEP_HOSTS !== "1") await lab?.stop();
});

describe("lab hosts trust", () => {
  it("pins every host of a group, then several hosts (one already pinned)", async () => {
    const kh = join(p.root, "known_hosts.trust");
    await writeFile(kh, "");
    await p.write(
      "inventory/hosts.yaml",
      (await readFile(join(p.root, "inventory/hosts.yaml"), "utf8")).replace(lab.knownHostsFile, kh),
    );
    const group = await p.lab(["hosts", "trust", "web"]);
    expect(group.code, group.stderr).toBe(0);
    expect(group.stdout).toMatch(/^web1: pinned SHA256:\S+ in /m);
    expect(group.stdout).toMatch(/^web2: pinned SHA256:\S+ in /m);
    expect(await readFile(kh, "utf8")).toBe(
      `[127.0.43.2]:2222 ${host("web1").hostKeyPub}\n[127.0.43.3]:2222 ${host("web2").hostKeyPub}\n`,
    );
    const several = await p.lab(["hosts", "trust", "db1", "web1"]);
    expect(several.code, several.stderr).toBe(0);
    expect(several.stdout).toMatch(/^db1: pinned SHA256:/m);
    expect(several.stdout).toMatch(/^web1: SHA256:\S+ is already pinned/m);
    expect((await readFile(kh, "utf8")).split("\n").filter(Boolean)).toHaveLength(3);
    const fp = await p.lab([
      "hosts",
      "trust",
      "web",
      "--fingerprint",
      "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ]);
    expect(fp.code).toBe(2);
    expect(fp.stderr).toContain("--fingerprint pins one host, but web1, web2 matched");
    await p.write(
      "inventory/hosts.yaml",
      (await readFile(join(p.root, "inventory/hosts.yaml"), "utf8")).replace(kh, lab.knownHostsFile),
    );
  });
});

describe("lab exec", () => {
  it("runs on every host in parallel, each host's output and rc, and records it", async () => {
    await inHost(host("web2").container, "echo broken > /tmp/lab-exec-state");
    const r = await p.lab([
      "exec",
      "all",
      "--forks",
      "3",
      "--",
      "hostname; cat /tmp/lab-exec-state 2>/dev/null || true",
    ]);
    expect(r.code, r.stderr).toBe(0);
    for (const h of ["web1", "web2", "db1"])
      expect(r.stdout).toMatch(new RegExp(`^${h} \\| rc=0 \\| \\d+\\.\\d\\ds >>\\n${h}\\n`, "m"));
    expect(r.stdout).toContain("web2\nbroken\n");
    expect(r.stdout).toContain("3 ok, 0 failed, 0 unreachable\n");
    const audit = (await readFile(join(p.root, ".lab/audit.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { playbook: string; hosts: string[]; changes: { host: string; summary: string }[] });
    const last = audit.at(-1)!;
    expect(last.playbook).toBe("(exec)");
    expect(last.hosts).toEqual(["web1", "web2", "db1"]);
    expect(last.changes.map((c) => `${c.host} ${c.summary}`).sort()).toEqual([
      "db1 exit 0",
      "web1 exit 0",
      "web2 exit 0",
    ]);
  });

  it("a failing host is exit 3 with its rc; the others still run", async () => {
    const r = await p.lab(["exec", "web", "--", 'test "$(hostname)" = web1']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^web1 \| rc=0 /m);
    expect(r.stdout).toMatch(/^web2 \| rc=1 /m);
  });

  it("host keys are checked as in a run: an unpinned host is UNREACHABLE (exit 4), nothing runs there", async () => {
    const kh = join(p.root, "known_hosts.partial");
    await writeFile(kh, `[127.0.43.2]:2222 ${host("web1").hostKeyPub}\n`);
    const q = await makeProject(lab, { knownHosts: kh });
    const r = await q.lab(["exec", "web", "--", "touch /tmp/lab-exec-ran"]);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/^web2 \| UNREACHABLE \| .*\n.*no host key for 127\.0\.43\.3:2222/m);
    expect((await inHost(host("web2").container, "test -e /tmp/lab-exec-ran")).code).not.toBe(0);
    expect((await inHost(host("web1").container, "test -e /tmp/lab-exec-ran && rm /tmp/lab-exec-ran")).code).toBe(0);
  });
});

describe("lab facts", () => {
  it("a real host's facts", async () => {
    const r = await p.lab(["facts", "db1"]);
    expect(r.code, r.stderr).toBe(0);
    const f = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(f).toMatchObject({
      hostname: "db1",
      os: { id: "debian", version_id: "12" },
      init: "other",
      compose: { kind: "none" },
    });
    // --network host: the machine's interfaces (the 127.0.43.x address lies inside lo's 127.0.0.1/8).
    expect(f.addresses).toContain("127.0.0.1");
    expect(Object.keys(f)).toEqual([
      "hostname",
      "os",
      "kernel",
      "arch",
      "cpus",
      "memory_mb",
      "init",
      "compose",
      "addresses",
      "uptime_s",
    ]);
  });
});

const SUDOERS = `
import { definePlaybook, inline, file } from "@lab";
export default definePlaybook({ name: "sudoers", plays: [{ name: "sudoers", hosts: "db1", roles: (h) => [inline([
  file({ path: "/etc/sudoers.d/lab-it", content: String(h.vars.rule) + "\\n", mode: "0440", validate: "visudo -cf %s" }),
])] }] });
`;

describe("file validate", () => {
  it("a sudoers file visudo accepts is written (and a second run changes nothing); a broken one is refused and the old file stays", async () => {
    const q = await makeProject(lab, { files: { "playbooks/site.ts": SUDOERS } });
    await inHost(host("db1").container, "rm -f /etc/sudoers.d/lab-it");
    const good = "%sudo ALL=(ALL) NOPASSWD: ALL";
    const first = await q.applyJson(["-e", `rule=${good}`]);
    expect(first.run.code, first.run.stderr).toBe(0);
    expect(first.report.hosts.db1!.changed).toBe(1);
    const again = await q.applyJson(["-e", `rule=${good}`]);
    expect(again.report.hosts.db1!.changed).toBe(0);

    const broken = await q.lab(["apply", "-y", "-e", "rule=%sudo ALL=(ALL NOPASSWD ALL"]);
    expect(broken.code).toBe(3);
    expect(broken.stdout + broken.stderr).toContain(
      "validate (visudo -cf %s) refused the new content; /etc/sudoers.d/lab-it was not replaced",
    );
    expect(broken.stdout + broken.stderr).toMatch(/syntax error/);
    const after = await inHost(
      host("db1").container,
      "cat /etc/sudoers.d/lab-it; stat -c %a /etc/sudoers.d/lab-it; ls -a /etc/sudoers.d; visudo -c >/dev/null && echo sudo-ok",
    );
    expect(after.stdout).toBe(`${good}\n440\n.\n..\nREADME\nlab-it\nsudo-ok\n`);
  });
});
