// The INI and YAML readers and the converter on small inventories: the rules
// that the fixtures of the ground-truth test do not show one by one.
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AnsibleInventory, Vaulted } from "../../../src/import/ansible-model.ts";
import { convertInventory } from "../../../src/import/convert.ts";
import { parseIni } from "../../../src/import/ini.ts";
import { loadAnsibleInventory } from "../../../src/import/load.ts";
import { parseYamlInventory, readAnsibleYaml } from "../../../src/import/yaml.ts";
import { tempDir } from "../helpers/temp.ts";

const ini = (text: string) => {
  const inv = new AnsibleInventory();
  parseIni("/inv/hosts", text, inv);
  inv.reconcile();
  return inv;
};
const yaml = (text: string) => {
  const inv = new AnsibleInventory();
  const warnings: string[] = [];
  parseYamlInventory("/inv/hosts.yml", readAnsibleYaml("/inv/hosts.yml", text), inv, (o, m) =>
    warnings.push(`${o.line}: ${m}`),
  );
  inv.reconcile();
  return { inv, warnings };
};

describe("INI", () => {
  it("hosts before any section are ungrouped; a host in a group leaves ungrouped", () => {
    const inv = ini("alone\nboth\n[web]\nboth\n");
    expect(inv.groups.get("ungrouped")!.hosts).toEqual(["alone"]);
    expect(inv.groupsOf("both").sort()).toEqual(["all", "web"]);
  });

  it("[parent:children] may name groups declared later, chains included", () => {
    const inv = ini("[top:children]\nmid\n[mid:children]\nleaf\n[leaf]\nh1\n");
    expect(inv.groupsOf("h1").sort()).toEqual(["all", "leaf", "mid", "top"]);
    expect(inv.depths().get("leaf")).toBe(3);
  });

  it("keeps where every var was set, and a port on the host line is ansible_port", () => {
    const inv = ini("[web]\nweb1:2222 a=1\n\n[web:vars]\nb='x'\n");
    expect(inv.hosts.get("web1")!.vars).toEqual({ ansible_port: 2222, a: 1 });
    expect(inv.hosts.get("web1")!.varOrigins.a).toEqual({ file: "/inv/hosts", line: 2 });
    expect(inv.groups.get("web")!.varOrigins.b).toEqual({ file: "/inv/hosts", line: 5 });
  });

  it("a group cycle is an error with its line", () => {
    expect(() => ini("[a:children]\nb\n[b:children]\na\n")).toThrow(/group cycle/);
  });
});

describe("YAML", () => {
  it("reads YAML 1.1 like PyYAML and `hosts: NAME` as one host", () => {
    const { inv } = yaml(
      "all:\n  vars: { on_: yes, mode: 0755, t: 2024-01-02 }\n  children:\n    web:\n      hosts: web1\n",
    );
    expect(inv.groups.get("all")!.vars).toEqual({ on_: true, mode: 493, t: "2024-01-02" });
    expect(inv.groups.get("web")!.hosts).toEqual(["web1"]);
  });

  it("keeps !vault values as Vaulted and warns about keys Ansible skips", () => {
    const { inv, warnings } = yaml(
      "web:\n  hosts:\n    web1:\n      pw: !vault |\n        $ANSIBLE_VAULT;1.1;AES256\n        3061\n  extra: { a: 1 }\n",
    );
    expect(inv.hosts.get("web1")!.vars.pw).toBeInstanceOf(Vaulted);
    expect(warnings).toEqual([
      `7: skipping unexpected key (extra) in group (web), only "vars", "children" and "hosts" are valid`,
    ]);
  });

  it("a host pattern that is a number must be quoted", () => {
    expect(() => yaml("web:\n  hosts:\n    1234:\n")).toThrow(/must be a string/);
  });
});

describe("convert", () => {
  it("renames what lab does not accept as a name, keeping the address", async () => {
    const inv = new AnsibleInventory();
    parseIni("/inv/hosts", "[_private]\n[2001:db8::1]:22\n", inv);
    inv.reconcile();
    const c = await convertInventory(inv, { group: new Map(), host: new Map() }, { source: "hosts", root: "/project" });
    expect(c.groupNames.get("_private")).toBe("private");
    expect(c.hostNames.get("2001:db8::1")).toBe("2001-db8-1");
    expect(c.data.hosts!["2001-db8-1"]).toMatchObject({ address: "2001:db8::1", port: 22 });
    expect(c.report.filter((r) => r.kind === "rename").map((r) => r.message)).toEqual([
      'host "2001:db8::1" is "2001-db8-1" in lab',
      'group "_private" is "private" in lab',
    ]);
  });

  it("a host and a group with the same name stay apart", async () => {
    const c = await convertInventory(
      ini("[db]\ndb\n"),
      { group: new Map(), host: new Map() },
      { source: "hosts", root: "/project" },
    );
    expect(c.data.groups).toEqual({ "db-group": { hosts: ["db"] } });
  });
});

describe("sources", () => {
  it("a folder: plugin configs and scripts are reported, static files merged, ignored extensions skipped", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "aws_ec2.yml"), "plugin: amazon.aws.aws_ec2\n");
    await writeFile(join(dir, "inventory.py"), "#!/usr/bin/env python3\nprint('{}')\n");
    await chmod(join(dir, "inventory.py"), 0o755);
    await writeFile(join(dir, "hosts"), "[web]\nweb1\n");
    await writeFile(join(dir, "notes.md"), "[nope]\nnot-a-host\n");
    await mkdir(join(dir, "group_vars"));
    await writeFile(join(dir, "group_vars", "web.yml"), "$ANSIBLE_VAULT;1.1;AES256\n3061\n");
    const { inv, report, sources, files } = await loadAnsibleInventory(dir);
    expect(sources).toEqual([join(dir, "hosts")]);
    expect([...inv.hosts.keys()]).toEqual(["web1"]);
    expect(report.filter((r) => r.kind === "dynamic").map((r) => r.where?.file)).toEqual([
      join(dir, "aws_ec2.yml"),
      join(dir, "inventory.py"),
    ]);
    const c = await convertInventory(inv, files, { source: dir, root: dir });
    expect(c.report.find((r) => r.kind === "vault")).toMatchObject({
      where: { file: join(dir, "group_vars", "web.yml") },
      message: expect.stringContaining("whole file is encrypted") as unknown,
    });
  });
});

describe("connection vars", () => {
  it("passwords (vaulted or not) are reported, never written; ProxyJump to an unknown host is reported", async () => {
    const { inv } = yaml(
      "web:\n  hosts:\n    web1:\n      ansible_become_password: !vault |\n        $ANSIBLE_VAULT;1.1;AES256\n        3061\n      ansible_password: hunter2\n      ansible_ssh_common_args: -J nowhere\n",
    );
    const c = await convertInventory(
      inv,
      { group: new Map(), host: new Map() },
      { source: "hosts.yml", root: "/project" },
    );
    expect(c.text).not.toMatch(/hunter2|ANSIBLE_VAULT|nowhere/);
    expect(JSON.stringify(c.report)).not.toMatch(/hunter2|ANSIBLE_VAULT/);
    const msgs = c.report.filter((r) => r.kind === "connection").map((r) => r.message);
    expect(msgs).toEqual(
      expect.arrayContaining([
        "ansible_become_password (host web1): lab logs in with SSH keys and uses sudo -n; it takes no passwords",
        "ansible_password (host web1): lab logs in with SSH keys and uses sudo -n; it takes no passwords",
        "ProxyJump nowhere (host web1) is not a host of the inventory",
      ]),
    );
    expect(c.report.filter((r) => r.kind === "vault")).toEqual([]);
  });

  it("a group-wide ProxyJump does not make the jump host jump through itself", async () => {
    const c = await convertInventory(
      ini("jump1\n[web]\nweb1\n[all:vars]\nansible_ssh_common_args='-o ProxyJump=jump1'\n"),
      { group: new Map(), host: new Map() },
      { source: "hosts", root: "/project" },
    );
    expect(c.data.connection).toEqual({ bastion: "jump1" });
    expect(c.report.filter((r) => r.kind === "precedence")).toEqual([]);
  });

  it("values lab's schema would refuse are reported, not written", async () => {
    const c = await convertInventory(
      ini("[web]\nweb1 ansible_port=0 ansible_timeout=0 ansible_user='' ansible_become=maybe\n"),
      { group: new Map(), host: new Map() },
      { source: "hosts", root: "/project" },
    );
    expect(c.data.hosts!.web1).toEqual({});
    expect(c.report.filter((r) => r.kind === "connection").map((r) => r.message.split(":")[0])).toEqual([
      "ansible_port=0 (host web1)",
      "ansible_timeout=0 (host web1)",
      'ansible_user="" (host web1)',
      'ansible_become="maybe" (host web1)',
      "no ansible_user for 1 host(s) (web1)",
    ]);
  });
});

describe("YAML anchors", () => {
  it("aliases and << merge keys resolve as in Ansible", () => {
    const { inv } = yaml(
      "all:\n  vars: &base { a: 1, b: 2 }\n  children:\n    web:\n      vars:\n        <<: *base\n        b: 3\n      hosts:\n        web1: &h { port_note: x }\n        web2: *h\n",
    );
    expect(inv.groups.get("web")!.vars).toEqual({ a: 1, b: 3 });
    expect(inv.groups.get("web")!.varOrigins.b).toEqual({ file: "/inv/hosts.yml", line: 7 });
    expect(inv.hosts.get("web2")!.vars).toEqual({ port_note: "x" });
  });
});
