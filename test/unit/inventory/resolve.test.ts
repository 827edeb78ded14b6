// Resolving an inventory: vars precedence (all < group, parent < child < host <
// extra vars), group membership, connections.
import { homedir } from "node:os";
import { describe, expect, it } from "vitest";
import { inventoryOf } from "../helpers/inventory.ts";

const VARS = `
vars:
  level: all
  from_all: true
  shared: { a: all, b: all }
hosts:
  web1:
    vars:
      level: host
      from_host: true
  web2: {}
  db1: {}
groups:
  # Declared child first, grandparent last: declaration order must not matter.
  frontend:
    hosts: [web1, web2]
    vars: { level: frontend, from_frontend: true, shared: { a: frontend } }
  web:
    children: [frontend]
    vars: { level: web, from_web: true, only_parents: web }
  prod:
    children: [web]
    hosts: [db1]
    vars: { level: prod, from_prod: true, only_parents: prod }
  # Two groups at the same depth: merged by name, the later name wins.
  zz_site:
    hosts: [web2]
    vars: { sibling: zz }
  aa_site:
    hosts: [web2]
    vars: { sibling: aa }
`;

describe("vars precedence", () => {
  it("all < grandparent < parent < child group < host < extra vars", () => {
    const inv = inventoryOf({ "a.yaml": VARS });
    const web1 = inv.hosts.get("web1")!.vars;
    expect(web1).toMatchObject({
      level: "host",
      from_all: true,
      from_prod: true,
      from_web: true,
      from_frontend: true,
      from_host: true,
      only_parents: "web",
    });
    expect(inv.hosts.get("web2")!.vars.level).toBe("frontend");
    expect(inv.hosts.get("db1")!.vars).toEqual({
      level: "prod",
      from_all: true,
      from_prod: true,
      only_parents: "prod",
      shared: { a: "all", b: "all" },
    });

    const extra = inventoryOf({ "a.yaml": VARS }, { level: "extra", from_host: "overridden" });
    expect(extra.hosts.get("web1")!.vars).toMatchObject({ level: "extra", from_host: "overridden" });
    expect(extra.hosts.get("db1")!.vars.level).toBe("extra");
  });

  it("replaces a dict var as a whole (no deep merge), like Ansible", () => {
    expect(inventoryOf({ "a.yaml": VARS }).hosts.get("web1")!.vars.shared).toEqual({ a: "frontend" });
  });

  it("groups at the same depth merge in name order", () => {
    expect(inventoryOf({ "a.yaml": VARS }).hosts.get("web2")!.vars.sibling).toBe("zz");
  });

  it("a deeper group wins even when reached through two paths (diamond)", () => {
    const inv = inventoryOf({
      "a.yaml": `
hosts: { h: {} }
groups:
  leaf: { hosts: [h], vars: { x: leaf } }
  mid: { children: [leaf], vars: { x: mid } }
  top: { children: [mid, leaf], vars: { x: top } }
`,
    });
    expect(inv.hosts.get("h")!.vars.x).toBe("leaf");
    expect(inv.hosts.get("h")!.groups).toEqual(["all", "top", "mid", "leaf"]);
  });

  it("top-level vars from several files merge; a later file wins", () => {
    const inv = inventoryOf({ "a.yaml": "vars: { x: a, y: a }\nhosts: { h: {} }\n", "b.yaml": "vars: { y: b }\n" });
    expect(inv.hosts.get("h")!.vars).toEqual({ x: "a", y: "b" });
  });
});

describe("groups", () => {
  it("membership goes through children; all has every host", () => {
    const inv = inventoryOf({ "a.yaml": VARS });
    expect([...inv.groups.get("prod")!].sort()).toEqual(["db1", "web1", "web2"]);
    expect([...inv.groups.get("web")!].sort()).toEqual(["web1", "web2"]);
    expect([...inv.groups.get("all")!]).toEqual(["web1", "web2", "db1"]);
    expect(inv.hosts.get("web1")!.groups).toEqual(["all", "prod", "web", "frontend"]);
    expect(inv.hosts.get("web2")!.groups).toEqual(["all", "aa_site", "prod", "zz_site", "web", "frontend"]);
  });
});

describe("connections", () => {
  const CONN = `
connection: { user: admin, port: 2222, known_hosts: keys/known_hosts }
hosts:
  jump: { address: 203.0.113.10, port: 22, key_file: ~/.ssh/jump }
  web1: { address: 10.0.0.11 }
  web2: { user: deploy, become: true, connect_timeout: 3 }
  local1: { type: local }
groups:
  inner:
    hosts: [web1, web2]
    connection: { bastion: jump, key_file: keys/inner }
`;
  it("defaults < file < group < host; paths relative to the project root; ~ expanded", () => {
    const inv = inventoryOf({ "a.yaml": CONN });
    expect(inv.hosts.get("web1")!.connection).toEqual({
      type: "ssh",
      address: "10.0.0.11",
      port: 2222,
      user: "admin",
      keyFile: "/project/keys/inner",
      knownHosts: "/project/keys/known_hosts",
      become: false,
      connectTimeoutMs: 10000,
      bastion: {
        name: "jump",
        type: "ssh",
        address: "203.0.113.10",
        port: 22,
        user: "admin",
        keyFile: `${homedir()}/.ssh/jump`,
        knownHosts: "/project/keys/known_hosts",
        become: false,
        connectTimeoutMs: 10000,
      },
    });
    expect(inv.hosts.get("web2")!.connection).toMatchObject({
      address: "web2",
      user: "deploy",
      become: true,
      connectTimeoutMs: 3000,
      bastion: { name: "jump" },
    });
    expect(inv.hosts.get("local1")!.connection).toMatchObject({ type: "local", address: "local1", port: 2222 });
    expect(inv.hosts.get("jump")!.connection.bastion).toBeUndefined();
  });

  it("default known_hosts is ~/.ssh/known_hosts and a host is its own address", () => {
    const c = inventoryOf({ "a.yaml": "hosts: { h1: {} }\n" }).hosts.get("h1")!.connection;
    expect(c).toEqual({
      type: "ssh",
      address: "h1",
      port: 22,
      user: "root",
      knownHosts: `${homedir()}/.ssh/known_hosts`,
      become: false,
      connectTimeoutMs: 10000,
    });
  });

  it("where() points at a key for later errors", () => {
    const inv = inventoryOf({ "a.yaml": CONN });
    expect(inv.where(["hosts", "web2", "user"])).toEqual({ file: "/inv/a.yaml", line: 6, col: 17 });
    expect(inv.where(["hosts", "nope"])).toBeUndefined();
  });
});
