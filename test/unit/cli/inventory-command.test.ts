// `lab inventory --list/--graph/--host` against `ansible-inventory` (Ansible 2.14,
// installed by scripts/ensure-deps.sh) on the same inventory written both ways.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { makeProject, writeProjectFiles } from "../helpers/project.ts";
import { runMain } from "./helpers-main.ts";

const LAB_INV = `connection: { user: admin, port: 2222, key_file: /keys/id }
vars: { domain: home.arpa }
hosts:
  solo: { address: 127.0.0.9 }
  web1: { address: 127.0.0.2, vars: { note: edge } }
  web2: { address: 127.0.0.3, become: true }
  db1: { address: 127.0.0.4, port: 22 }
groups:
  servers: { children: [web] }
  web: { hosts: [web1, web2], vars: { note: compose } }
  db: { hosts: [db1] }
  empty: {}
`;
// The same lab in Ansible's YAML inventory, connection spelled as Ansible does.
const conn = (host: string, port = 2222) => ({
  ansible_host: host,
  ansible_port: port,
  ansible_user: "admin",
  ansible_ssh_private_key_file: "/keys/id",
});
const ANSIBLE_INV = JSON.stringify({
  all: {
    vars: { domain: "home.arpa" },
    hosts: { solo: conn("127.0.0.9") },
    children: {
      servers: {
        children: {
          web: {
            hosts: {
              web1: { ...conn("127.0.0.2"), note: "edge" },
              web2: { ...conn("127.0.0.3"), ansible_become: true },
            },
            vars: { note: "compose" },
          },
        },
      },
      db: { hosts: { db1: conn("127.0.0.4", 22) } },
      empty: {},
    },
  },
});

async function both(args: string[]): Promise<{ lab: string; ansible: string }> {
  const root = await makeProject({ "inventory/hosts.yaml": LAB_INV, "ansible/inv.yml": ANSIBLE_INV });
  const lab = await runMain(["-C", root, "inventory", ...args], { LAB_INVENTORY: undefined });
  expect(lab.code, lab.stderr).toBe(0);
  const a = await promisify(execFile)("ansible-inventory", ["-i", join(root, "ansible/inv.yml"), ...args], {
    timeout: 60_000,
    env: { ...process.env, ANSIBLE_INVENTORY_ENABLED: "yaml", ANSIBLE_NOCOLOR: "1" },
  });
  return { lab: lab.stdout, ansible: a.stdout };
}

describe("lab inventory is read like ansible-inventory", { timeout: 120_000 }, () => {
  it("--list: the same JSON (_meta.hostvars, all.children, groups' hosts and children)", async () => {
    const { lab, ansible } = await both(["--list"]);
    const parsed = JSON.parse(lab) as { all: { children: string[] }; _meta: { hostvars: Record<string, unknown> } };
    expect(parsed.all.children).toEqual(["ungrouped", "servers", "db", "empty"]);
    expect(parsed._meta.hostvars.web2).toMatchObject({ ansible_become: true, note: "compose", domain: "home.arpa" });
    expect(parsed).toEqual(JSON.parse(ansible));
  });

  it("--graph: the same tree, line for line", async () => {
    const { lab, ansible } = await both(["--graph"]);
    expect(lab).toContain("  |  |--@web:\n  |  |  |--web1\n");
    expect(lab).toBe(ansible);
  });

  it("--host NAME: the same vars", async () => {
    const { lab, ansible } = await both(["--host", "web1"]);
    expect(JSON.parse(lab)).toEqual({ ...conn("127.0.0.2"), domain: "home.arpa", note: "edge" });
    expect(JSON.parse(lab)).toEqual(JSON.parse(ansible));
  });

  it("an unknown host, or no view or two views, is exit 2", async () => {
    const root = await makeProject({});
    await writeProjectFiles(root, { "inventory/hosts.yaml": LAB_INV });
    const unknown = await runMain(["-C", root, "inventory", "--host", "nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`unknown host "nope"`);
    expect(unknown.stderr).toContain("known hosts: solo, web1, web2, db1");
    expect((await runMain(["-C", root, "inventory"])).code).toBe(2);
    expect((await runMain(["-C", root, "inventory", "--list", "--graph"])).code).toBe(2);
  });
});
