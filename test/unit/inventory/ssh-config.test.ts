// ~/.ssh/config as OpenSSH resolves it: each config below is handed to `ssh -G HOST -F FILE`
// (OpenSSH's own resolution, nothing is contacted) and lab's reading must agree on HostName,
// User, Port, the first IdentityFile and ProxyJump. Then the precedence inventory > ssh config
// > defaults, and ProxyJump turned into bastions.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { homedir, tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveInventory } from "../../../src/inventory/inventory.ts";
import { parseSshConfig, readSshConfig, type SshHostConfig } from "../../../src/inventory/ssh-config.ts";
import { validateInventoryFile } from "../../../src/inventory/validate.ts";
import { parseYaml } from "../../../src/inventory/yaml-source.ts";

const CONFIGS: Record<string, { text: string; hosts: string[] }> = {
  "wildcards, first match wins": {
    text: `Host web*
  User alice
  HostName %h.lab.test
Host web1
  Port 2201
  IdentityFile ~/.ssh/web_%h
  User ignored-second-match
Host *
  Port 2200
  User bob
  IdentityFile ~/.ssh/other
`,
    hosts: ["web1", "web2", "db1", "x"],
  },
  "negation, ? and several patterns on a line": {
    text: `Host db? !db9 cache*
  HostName 10.0.0.5
  Port 5022
Host * !bastion
  ProxyJump ops@bastion:2222,inner
Host bastion
  HostName 127.0.49.1
  User jumper
`,
    hosts: ["db1", "db9", "db10", "cache-a", "bastion", "other"],
  },
  "key=value, tabs, quotes, case of keywords, ProxyJump none first": {
    text: `host=quiet
\tproxyjump none
HOST "spaced"
  hostname="spaced.lab.test"
Host *
\tPROXYJUMP jump1
\tuser = eve
\tidentityfile "~/keys/id one"
`,
    hosts: ["quiet", "spaced", "loud"],
  },
  "%% in HostName, a global section before any Host": {
    text: `Port 2022
Host pct
  HostName a%%b
Host *
  HostName %h.example
`,
    hosts: ["pct", "plain"],
  },
};

/** What `ssh -G` says (the first value of each key; every identityfile). */
function sshG(file: string, host: string): Record<string, string[]> {
  const out = execFileSync("ssh", ["-G", "-F", file, host], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const keys: Record<string, string[]> = {};
  for (const line of out.split("\n")) {
    const i = line.indexOf(" ");
    if (i > 0) (keys[line.slice(0, i)] ??= []).push(line.slice(i + 1));
  }
  return keys;
}

const DEFAULT_IDS = ["rsa", "ecdsa", "ecdsa_sk", "ed25519", "ed25519_sk", "xmss", "dsa"].map((k) => `~/.ssh/id_${k}`);
const jumps = (c: SshHostConfig) =>
  c.proxyJump?.map((j) => `${j.user ? `${j.user}@` : ""}${j.host}${j.port ? `:${j.port}` : ""}`).join(",");

describe("ssh config read like `ssh -G`", () => {
  const dir = mkdtempSync(join(tmpdir(), "lab-sshcfg-"));
  for (const [name, { text, hosts }] of Object.entries(CONFIGS)) {
    it(name, () => {
      const file = join(dir, `${name.replace(/\W+/g, "-")}.conf`);
      writeFileSync(file, text);
      const config = parseSshConfig(text, file);
      for (const host of hosts) {
        const g = sshG(file, host);
        const c = config.lookup(host);
        const where = `${host} in ${name}`;
        expect(c.hostName ?? host, where).toBe(g.hostname?.[0]);
        expect(c.user ?? userInfo().username, where).toBe(g.user?.[0]);
        expect(c.port ?? 22, where).toBe(Number(g.port?.[0]));
        const ids = g.identityfile ?? [];
        if (c.identityFile === undefined)
          expect(
            ids.every((f) => DEFAULT_IDS.includes(f)),
            where,
          ).toBe(true);
        else
          expect(c.identityFile, where).toBe(
            ids[0]
              ?.replace(/^~(?=\/)/, homedir())
              .replaceAll("%h", host)
              .replace(/^"(.*)"$/, "$1"),
          );
        // ssh -G leaves proxyjump out when it is none or unset.
        expect(jumps(c) || undefined, where).toBe(g.proxyjump?.[0]);
      }
    });
  }

  it("a bad Port or ProxyJump is bad input naming the file", () => {
    expect(() => parseSshConfig("Host a\n  Port 99999\n", "/x/config").lookup("a")).toThrow(
      /ssh config: Port of Host a is "99999", not a port/,
    );
    expect(() => parseSshConfig("Host a\n  ProxyJump @\n", "/x/config").lookup("a")).toThrow(/ProxyJump "@"/);
  });

  it("Match blocks are left out, never run (Match exec)", () => {
    const mark = join(dir, "ran");
    const c = parseSshConfig(`Match exec "touch ${mark}"\n  User matched\nHost *\n  User plain\n`);
    expect(c.lookup("h").user).toBe("plain");
    expect(() => execFileSync("test", ["-e", mark])).toThrow();
  });

  it("none and a missing file are no config", async () => {
    expect((await readSshConfig("none")).lookup("a")).toEqual({});
    expect((await readSshConfig(join(dir, "missing"))).lookup("a")).toEqual({});
  });
});

describe("inventory > ssh config > defaults", () => {
  const ssh = parseSshConfig(
    `Host web1
  HostName 10.1.0.1
  User cfguser
  Port 2201
  IdentityFile /keys/cfg
  ProxyJump hop1,hop2
Host hop1
  HostName 10.9.0.1
  IdentityFile /keys/hop
Host db1
  ProxyJump jump
Host *
  User fallback
`,
    "/home/u/.ssh/config",
  );
  const inv = (yaml: string) =>
    resolveInventory([validateInventoryFile(parseYaml("/inv/a.yaml", yaml))], {
      path: "/inv",
      root: "/project",
      sshConfig: ssh,
    });

  it("fields the inventory leaves out come from the ssh config; ProxyJump becomes the bastion chain", () => {
    const c = inv("connection: { known_hosts: /kh }\nhosts: { web1: {} }\n").hosts.get("web1")!.connection;
    expect(c).toMatchObject({ address: "10.1.0.1", user: "cfguser", port: 2201, keyFile: "/keys/cfg" });
    // Last hop first: web1 <- hop2 <- hop1; each hop from the config, host keys from the same known_hosts.
    expect(c.bastion).toMatchObject({ name: "hop2", address: "hop2", user: "fallback", port: 22, knownHosts: "/kh" });
    expect(c.bastion?.bastion).toMatchObject({ name: "hop1", address: "10.9.0.1", keyFile: "/keys/hop" });
    expect(c.bastion?.bastion?.bastion).toBeUndefined();
  });

  it("the inventory wins field by field, at any level; a bastion wins over ProxyJump", () => {
    const i = inv(`connection: { user: invuser }
hosts:
  web1: { port: 22, bastion: jump }
  jump: { address: 10.2.0.1 }
  db1: {}
`);
    const c = i.hosts.get("web1")!.connection;
    expect(c).toMatchObject({ address: "10.1.0.1", user: "invuser", port: 22, keyFile: "/keys/cfg" });
    expect(c.bastion).toMatchObject({ name: "jump", address: "10.2.0.1" });
    // A ProxyJump naming an inventory host uses that host's inventory connection.
    expect(i.hosts.get("db1")!.connection.bastion).toMatchObject({
      name: "jump",
      address: "10.2.0.1",
      user: "invuser",
    });
  });

  it("without an ssh config: lab's defaults (root, 22, the name as address, ssh-agent)", () => {
    const c = resolveInventory([validateInventoryFile(parseYaml("/inv/a.yaml", "hosts: { web1: {} }\n"))], {
      path: "/inv",
      root: "/project",
    }).hosts.get("web1")!.connection;
    expect(c).toMatchObject({ address: "web1", user: "root", port: 22 });
    expect(c.keyFile).toBeUndefined();
  });

  it("a ProxyJump loop is bad input", () => {
    const loop = parseSshConfig("Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n");
    expect(() =>
      resolveInventory([validateInventoryFile(parseYaml("/inv/a.yaml", "hosts: { a: {} }\n"))], {
        path: "/inv",
        root: "/project",
        sshConfig: loop,
      }),
    ).toThrow(/ProxyJump loop: a -> b -> a/);
  });
});
