// lab.config.yaml: validated like the inventory (file:line:col, exit 2), and its
// values are defaults only: flag > environment > config file > built-in default.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Command, Option } from "commander";
import { describe, expect, it } from "vitest";
import { applyProjectConfig } from "../../../src/cli/config-defaults.ts";
import { wholeNumber } from "../../../src/cli/number-option.ts";
import { configEnv, loadProjectConfig } from "../../../src/config/project-config.ts";
import { loadInventory } from "../../../src/inventory/inventory.ts";
import { LAB, makeProject, writeProjectFiles } from "../helpers/project.ts";
import { runMain } from "../cli/helpers-main.ts";

const SITE = `import { definePlaybook, inline, file } from ${LAB};
export default definePlaybook({ name: "site", plays: [{ name: "p", hosts: "all", roles: (h) => [inline([file({ path: String(h.vars.dir) + "/f", content: "x\\n" })])] }] });
`;
const inv = (root: string, host: string) =>
  `connection: { type: local }\nhosts:\n  ${host}: { vars: { dir: ${root}/${host} } }\n`;
/** Variables a test may set or the config may fill: restored after each CLI run. */
const CLEAN = {
  LAB_INVENTORY: undefined,
  LAB_SECRETS_FILE: undefined,
  LAB_AGE_KEY_FILE: undefined,
  LAB_AGE_KEY: undefined,
  LAB_KNOWN_HOSTS: undefined,
  LAB_SSH_CONFIG: undefined,
  LAB_FORKS: undefined,
  LAB_LOCK_TIMEOUT: undefined,
};

async function project(config: string): Promise<string> {
  const root = await makeProject({ "playbooks/site.ts": SITE });
  await writeProjectFiles(root, {
    "lab.config.yaml": config,
    "inventory/hosts.yaml": inv(root, "fromdefault"),
    "inv-config/hosts.yaml": inv(root, "fromconfig"),
    "inv-env/hosts.yaml": inv(root, "fromenv"),
    "inv-flag/hosts.yaml": inv(root, "fromflag"),
  });
  return root;
}

describe("validation", () => {
  it("a value of the wrong type: file:line:col, exit 2", async () => {
    const root = await project("# lab project config\nforks: abc\n");
    const r = await runMain(["-C", root, "plan"], CLEAN);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(root, "lab.config.yaml")}:2:8: forks: must be integer`);
  });

  it("an unknown key names it and lists the keys", async () => {
    const root = await project("inventory: inv-config\nforkz: 3\n");
    const r = await runMain(["-C", root, "plan"], CLEAN);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(root, "lab.config.yaml")}:2:1: forkz: unknown key "forkz"`);
    expect(r.stderr).toContain(
      "keys: inventory, secrets_file, age_key_file, known_hosts, ssh_config, forks, lock_timeout",
    );
  });

  it("invalid YAML is exit 2 with its position", async () => {
    const root = await project("inventory: [\n");
    const r = await runMain(["-C", root, "plan"], CLEAN);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${join(root, "lab.config.yaml")}:\\d+:\\d+: invalid YAML`));
  });

  it("no config file: built-in defaults", async () => {
    const root = await makeProject({});
    expect(await loadProjectConfig(root)).toEqual({ config: {} });
  });
});

describe("precedence: flag > env > config > default", () => {
  it("inventory", async () => {
    const root = await project("inventory: inv-config\n");
    const hostOf = async (args: string[], env: Record<string, string | undefined>) => {
      const r = await runMain(["-C", root, ...args, "plan"], { ...CLEAN, ...env });
      expect(r.code, r.stderr).toBe(0);
      return /lab: (\w+) changed/.exec(r.stderr)?.[1];
    };
    expect(await hostOf([], {})).toBe("fromconfig");
    expect(await hostOf([], { LAB_INVENTORY: join(root, "inv-env") })).toBe("fromenv");
    expect(await hostOf(["-i", "inv-flag"], { LAB_INVENTORY: join(root, "inv-env") })).toBe("fromflag");
    const none = await project("forks: 2\n");
    const r = await runMain(["-C", none, "plan"], CLEAN);
    expect(/lab: (\w+) changed/.exec(r.stderr)?.[1]).toBe("fromdefault");
  });

  it("forks and lock_timeout (the options main.ts declares)", async () => {
    const root = await project("forks: 3\nlock_timeout: 30\n");
    const parse = async (argv: string[], env: NodeJS.ProcessEnv) => {
      let seen: Record<string, unknown> = {};
      const program = new Command("lab")
        .exitOverride()
        .option("-C, --root <dir>", "", root)
        .hook("preAction", (_p, action) => applyProjectConfig(program, action, env));
      program
        .command("plan")
        .addOption(new Option("-f, --forks <n>").env("LAB_FORKS").default(10).argParser(wholeNumber(1)))
        .addOption(new Option("--lock-timeout <s>").env("LAB_LOCK_TIMEOUT").default(0).argParser(wholeNumber(0)))
        .action((o: Record<string, unknown>) => {
          seen = o;
        });
      // commander reads option variables from process.env itself.
      const saved = { ...process.env };
      Object.assign(process.env, env);
      try {
        await program.parseAsync(argv, { from: "user" });
      } finally {
        for (const k of ["LAB_FORKS", "LAB_LOCK_TIMEOUT"])
          if (saved[k] === undefined) delete process.env[k];
          else process.env[k] = saved[k];
      }
      return seen;
    };
    expect(await parse(["plan"], {})).toEqual({ forks: 3, lockTimeout: 30 });
    expect(await parse(["plan"], { LAB_FORKS: "7" })).toEqual({ forks: 7, lockTimeout: 30 });
    expect(await parse(["plan", "-f", "5"], { LAB_FORKS: "7" })).toEqual({ forks: 5, lockTimeout: 30 });
    const bare = await project("inventory: inv-config\n");
    const p2 = new Command("lab").exitOverride().option("-C, --root <dir>", "", bare);
    let seen: Record<string, unknown> = {};
    p2.hook("preAction", (_p, a) => applyProjectConfig(p2, a, {}));
    p2.command("plan")
      .addOption(new Option("-f, --forks <n>").env("LAB_FORKS").default(10).argParser(wholeNumber(1)))
      .action((o: Record<string, unknown>) => {
        seen = o;
      });
    await p2.parseAsync(["plan"], { from: "user" });
    expect(seen).toEqual({ forks: 10 });
  });

  it("secrets_file and age_key_file: where `lab secrets init` creates them; the environment wins", async () => {
    const root = await project("secrets_file: .lab/s/secrets.age\nage_key_file: .lab/s/age.key\n");
    const r = await runMain(["-C", root, "secrets", "init"], CLEAN);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(root, ".lab/s/secrets.age"))).toBe(true);
    expect(existsSync(join(root, ".lab/s/age.key"))).toBe(true);
    expect(existsSync(join(root, "secrets.age"))).toBe(false);
    const env = await runMain(["-C", root, "secrets", "init"], {
      ...CLEAN,
      LAB_SECRETS_FILE: join(root, "other.age"),
      LAB_AGE_KEY_FILE: join(root, "other.key"),
    });
    expect(env.code, env.stderr).toBe(0);
    expect(existsSync(join(root, "other.age"))).toBe(true);
    expect(existsSync(join(root, "other.key"))).toBe(true);
  });

  it("known_hosts: the default for hosts whose inventory names none; LAB_AGE_KEY beats age_key_file", async () => {
    const root = await project("known_hosts: pins/known_hosts\nage_key_file: k\n");
    const { config } = await loadProjectConfig(root);
    expect(configEnv(config, {})).toEqual({
      LAB_KNOWN_HOSTS: join(root, "pins/known_hosts"),
      LAB_AGE_KEY_FILE: join(root, "k"),
    });
    expect(configEnv(config, { LAB_AGE_KEY: "AGE-SECRET-KEY-1X", LAB_KNOWN_HOSTS: "/kh" })).toEqual({});
    await writeProjectFiles(root, {
      "inv-ssh/hosts.yaml":
        "hosts:\n  a: { address: 127.0.0.1 }\n  b: { address: 127.0.0.1, known_hosts: /etc/ssh/kh }\n",
    });
    const saved = process.env.LAB_KNOWN_HOSTS;
    process.env.LAB_KNOWN_HOSTS = join(root, "pins/known_hosts");
    try {
      const i = await loadInventory({ path: join(root, "inv-ssh"), root });
      const kh = (h: string) => {
        const c = i.hosts.get(h)!.connection;
        return c.type === "ssh" ? c.knownHosts : undefined;
      };
      expect(kh("a")).toBe(join(root, "pins/known_hosts"));
      expect(kh("b")).toBe("/etc/ssh/kh");
    } finally {
      if (saved === undefined) delete process.env.LAB_KNOWN_HOSTS;
      else process.env.LAB_KNOWN_HOSTS = saved;
    }
  });

  it("ssh_config: a path relative to the root, or none; the inventory reads it", async () => {
    const root = await project("ssh_config: conf/ssh\n");
    expect(configEnv((await loadProjectConfig(root)).config, {})).toEqual({ LAB_SSH_CONFIG: join(root, "conf/ssh") });
    const none = await project("ssh_config: none\n");
    expect(configEnv((await loadProjectConfig(none)).config, {})).toEqual({ LAB_SSH_CONFIG: "none" });
    await writeProjectFiles(root, {
      "conf/ssh": "Host a\n  HostName 127.0.0.7\n  User cfg\n",
      "inv-ssh/hosts.yaml": "hosts:\n  a: {}\n",
    });
    const saved = process.env.LAB_SSH_CONFIG;
    try {
      process.env.LAB_SSH_CONFIG = join(root, "conf/ssh");
      const c = (await loadInventory({ path: join(root, "inv-ssh"), root })).hosts.get("a")!.connection;
      expect(c).toMatchObject({ address: "127.0.0.7", user: "cfg" });
      process.env.LAB_SSH_CONFIG = "none";
      const d = (await loadInventory({ path: join(root, "inv-ssh"), root })).hosts.get("a")!.connection;
      expect(d).toMatchObject({ address: "a", user: "root" });
    } finally {
      if (saved === undefined) delete process.env.LAB_SSH_CONFIG;
      else process.env.LAB_SSH_CONFIG = saved;
    }
  });
});
