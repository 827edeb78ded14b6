// Strict host keys, deliberate pinning, bastions, become, and bad input that
// stops a run before any host is touched.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import type { TestLabData } from "../hosts/hosts.ts";
import { changedCount, inHost, makeProject } from "./project.ts";

const MARK = `
import { definePlaybook, inline, file } from "@lab";
export default definePlaybook({
  name: "mark",
  plays: [{ name: "mark", hosts: "all", roles: (h) => [inline([file({ path: "/tmp/lab-mark-" + h.name, content: "marked\\n" })])] }],
});
`;

let lab: TestLabData;
const host = (n: string) => lab.hosts.find((h) => h.name === n)!;
beforeAll(async () => {
  lab = inject("testLab");
  await Promise.all(lab.hosts.map((h) => inHost(h.container, "rm -f /tmp/lab-mark-* /tmp/lab-become")));
});

describe("host keys", () => {
  it("refuses a host whose key is not pinned, and says how to pin it", async () => {
    const p = await makeProject(lab, { files: { "playbooks/site.ts": MARK } });
    const kh = join(p.root, "known_hosts");
    await writeFile(kh, "");
    await p.write(
      "inventory/hosts.yaml",
      (await readFile(join(p.root, "inventory/hosts.yaml"), "utf8")).replace(lab.knownHostsFile, kh),
    );
    const r = await p.lab(["apply", "-y", "--limit", "web1"]);
    expect(r.code).toBe(4);
    expect(r.stdout + r.stderr).toContain("no host key for 127.0.10.2:2222");
    expect(r.stdout + r.stderr).toContain("lab hosts trust web1");
    expect((await inHost(host("web1").container, "ls /tmp/lab-mark-web1 2>&1")).code).not.toBe(0);

    // A wrong expected fingerprint pins nothing.
    const wrong = await p.lab([
      "hosts",
      "trust",
      "web1",
      "--fingerprint",
      "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ]);
    expect(wrong.code).toBe(3);
    expect(await readFile(kh, "utf8")).toBe("");

    const trust = await p.lab(["hosts", "trust", "web1"]);
    expect(trust.code, trust.stderr).toBe(0);
    expect(trust.stdout).toMatch(/pinned SHA256:[A-Za-z0-9+/]{43}/);
    expect(await readFile(kh, "utf8")).toBe(`[127.0.10.2]:2222 ${host("web1").hostKeyPub}\n`);
    const ok = await p.lab(["apply", "-y", "--limit", "web1"]);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it("stops on a CHANGED host key", async () => {
    const kh = join(lab.stateDir, "known_hosts.changed");
    // web1's address pinned to web2's key: what a reinstalled or spoofed host looks like.
    await writeFile(kh, `[127.0.10.2]:2222 ${host("web2").hostKeyPub}\n`);
    const p = await makeProject(lab, { knownHosts: kh, files: { "playbooks/site.ts": MARK } });
    const r = await p.lab(["apply", "-y", "--limit", "web1"]);
    expect(r.code).toBe(4);
    expect(r.stdout + r.stderr).toContain("CHANGED host key for 127.0.10.2:2222");
  });
});

describe("bastion and become", () => {
  it("reaches a host by a name only the bastion can resolve", async () => {
    // "web2" resolves inside the lab's containers, not on this machine: only the jump works.
    const kh = join(lab.stateDir, "known_hosts.bastion");
    await writeFile(kh, `${await readFile(lab.knownHostsFile, "utf8")}[web2]:2222 ${host("web2").hostKeyPub}\n`);
    const p = await makeProject(lab, {
      knownHosts: kh,
      hosts: { web2: { address: "web2", bastion: "web1" } },
      files: { "playbooks/site.ts": MARK },
    });
    const r = await p.applyJson(["--limit", "web2"]);
    expect(r.run.code, r.run.stderr).toBe(0);
    expect((await inHost(host("web2").container, "cat /tmp/lab-mark-web2")).stdout).toBe("marked\n");
    const direct = await makeProject(lab, {
      knownHosts: kh,
      hosts: { web2: { address: "web2" } },
      files: { "playbooks/site.ts": MARK },
    });
    expect((await direct.lab(["apply", "-y", "--limit", "web2"])).code).toBe(4);
  });

  it("runs as a plain user through sudo with become", async () => {
    const pub = (await readFile(`${lab.keyFile}.pub`, "utf8")).trim();
    const setup = await makeProject(lab, {
      files: {
        "playbooks/site.ts": `
import { definePlaybook, inline, user, directory, file } from "@lab";
export default definePlaybook({ name: "deploy-user", plays: [{ name: "deploy", hosts: "db1", roles: () => [inline([
  user({ name: "deploy", shell: "/bin/sh" }),
  directory({ path: "/home/deploy/.ssh", mode: "0700", owner: "deploy", group: "deploy" }),
  file({ path: "/home/deploy/.ssh/authorized_keys", content: ${JSON.stringify(`${pub}\n`)}, mode: "0600", owner: "deploy", group: "deploy" }),
  file({ path: "/etc/sudoers.d/deploy", content: "deploy ALL=(ALL) NOPASSWD: ALL\\n", mode: "0440" }),
])] }] });
`,
      },
    });
    const s = await setup.applyJson();
    expect(s.run.code, s.run.stderr).toBe(0);
    const p = await makeProject(lab, {
      hosts: { db1: { user: "deploy", become: true } },
      files: {
        "playbooks/site.ts": `
import { definePlaybook, inline, file } from "@lab";
export default definePlaybook({ name: "become", plays: [{ name: "become", hosts: "db1", roles: () => [inline([
  file({ path: "/tmp/lab-become", content: "root wrote this\\n", mode: "0600", owner: "root" }),
])] }] });
`,
      },
    });
    const first = await p.applyJson();
    expect(first.run.code, first.run.stderr + first.run.stdout).toBe(0);
    expect((await inHost(host("db1").container, "stat -c '%U %a' /tmp/lab-become")).stdout.trim()).toBe("root 600");
    expect(changedCount((await p.applyJson()).report)).toBe(0);
  });
});

describe("bad input changes nothing", () => {
  it("names file:line:col of an inventory typo, exits 2, touches no host", async () => {
    await Promise.all(lab.hosts.map((h) => inHost(h.container, "rm -f /tmp/lab-mark-*")));
    const p = await makeProject(lab, { files: { "playbooks/site.ts": MARK } });
    const inv = join(p.root, "inventory/hosts.yaml");
    const text = await readFile(inv, "utf8");
    await writeFile(inv, text.replace("  web1:\n", "  web1:\n    prot: 22\n"));
    const line = (await readFile(inv, "utf8")).split("\n").findIndex((l) => l.includes("prot: 22")) + 1;
    const r = await p.lab(["apply", "-y"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`inventory/hosts.yaml:${line}:5: hosts.web1.prot: unknown key "prot"`);
    expect(r.stderr).toContain("allowed keys here: address, port");
    expect(r.stderr).not.toContain("    at "); // no stack trace without -v
    for (const h of lab.hosts)
      expect((await inHost(h.container, "ls /tmp/lab-mark-* 2>/dev/null | wc -l")).stdout.trim()).toBe("0");
  });

  it("rejects wrong role vars before contacting any host", async () => {
    const p = await makeProject(lab, {
      files: {
        "playbooks/site.ts": `
import { Type, definePlaybook, defineRole, inline, file } from "@lab";
const motd = defineRole({
  name: "motd",
  vars: Type.Object({ text: Type.String() }, { additionalProperties: false }),
  resources: (v) => [file({ path: "/tmp/lab-mark-role", content: v.text })],
});
export default definePlaybook({ name: "bad-vars", plays: [
  { name: "first", hosts: "db1", roles: () => [inline([file({ path: "/tmp/lab-mark-first", content: "x\\n" })])] },
  { name: "second", hosts: "db1", roles: (h) => [motd({ text: h.vars.motd_count as string })] },
] });
`,
      },
      vars: { motd_count: 3 },
    });
    const r = await p.lab(["apply", "-y"]);
    expect(r.code).toBe(2);
    // Not traceable to the YAML (another var's name): the playbook line that called the role.
    expect(r.stderr).toContain("playbooks/site.ts:10:");
    expect(r.stderr).toContain("role motd: vars.text: must be string");
    expect((await inHost(host("db1").container, "ls /tmp/lab-mark-first 2>&1")).code).not.toBe(0);
  });
});
