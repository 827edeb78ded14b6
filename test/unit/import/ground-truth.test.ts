// Ground truth: `ansible-inventory -i FIXTURE --list` (Ansible 2.14, installed by
// scripts/ensure-deps.sh) against the converted inventory loaded with lab's own
// loader: the same hosts, the same group memberships (children included), the
// same merged vars per host, and ansible_* connection vars as lab connection fields.
import { execFile } from "node:child_process";
import { symlink } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { importAnsible } from "../../../src/cli/import-command.ts";
import { loadInventory } from "../../../src/inventory/inventory.ts";
import { FIXTURES } from "../helpers/fixtures.ts";
import { LAB, makeProject } from "../helpers/project.ts";
import { tempDir } from "../helpers/temp.ts";

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, "../../..");

interface AnsibleList {
  _meta: { hostvars: Record<string, Record<string, unknown>> };
  [group: string]: { hosts?: string[]; children?: string[] } | AnsibleList["_meta"];
}

/** ansible-inventory --list, with only the static parsers enabled (no plugin is ever run). */
async function ansibleList(source: string): Promise<AnsibleList> {
  const r = await run("ansible-inventory", ["-i", source, "--list"], {
    timeout: 60_000,
    env: {
      ...process.env,
      ANSIBLE_INVENTORY_ENABLED: "yaml,ini",
      ANSIBLE_NOCOLOR: "1",
      ANSIBLE_INVENTORY_UNPARSED_WARNING: "False",
    },
  });
  return JSON.parse(r.stdout) as AnsibleList;
}

/** Group -> every member host, through children, as ansible-inventory lists them. */
function ansibleMembers(list: AnsibleList): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const members = (g: string): Set<string> => {
    const def = list[g] as { hosts?: string[]; children?: string[] } | undefined;
    return new Set([...(def?.hosts ?? []), ...(def?.children ?? []).flatMap((c) => [...members(c)])]);
  };
  for (const g of Object.keys(list)) if (g !== "_meta" && g !== "all") out.set(g, members(g));
  return out;
}

/** A vaulted value as ansible-inventory prints it, or a list/dict holding one. */
const isVaulted = (v: unknown): boolean =>
  typeof v === "object" && v !== null && ("__ansible_vault" in v || Object.values(v).some(isVaulted));
const ansibleBool = (v: unknown) => v === true || ["yes", "true", "on", "1"].includes(String(v).toLowerCase());

async function convert(source: string) {
  const root = await makeProject({});
  let report = "";
  const code = await importAnsible({
    root,
    source,
    out: join(root, "inventory"),
    force: false,
    stdout: { write: (s: string) => ((report += s), true) } as NodeJS.WritableStream,
  });
  expect(code).toBe(0);
  const inv = await loadInventory({ path: join(root, "inventory"), root });
  return { root, report, inv };
}

describe.each([
  ["INI with group_vars/ and host_vars/", "ini/hosts"],
  ["YAML with group_vars/ and host_vars/", "yaml/hosts.yml"],
  ["a folder of inventories (INI + a plugin config)", "mixed"],
])("%s resolves as ansible-inventory does", (_name, fixture) => {
  it("same hosts, groups, vars and connections", { timeout: 120_000 }, () =>
    expectSameAsAnsible(join(FIXTURES, "ansible", fixture)),
  );
});

// What the report tells users of dynamic inventories to do: import `ansible-inventory --list --yaml`.
it(
  "the static dump of an inventory (ansible-inventory --list --yaml) converts to the same",
  { timeout: 120_000 },
  async () => {
    const dir = await tempDir();
    await run(
      "ansible-inventory",
      ["-i", join(FIXTURES, "ansible", "yaml", "hosts.yml"), "--list", "--yaml", "--output", join(dir, "static.yml")],
      { timeout: 60_000 },
    );
    await expectSameAsAnsible(join(dir, "static.yml"));
  },
);

async function expectSameAsAnsible(source: string): Promise<void> {
  const [list, { root, report, inv }] = await Promise.all([ansibleList(source), convert(source)]);
  const hostvars = list._meta.hostvars;
  const ansibleHosts = new Set([...ansibleMembers(list).values()].flatMap((s) => [...s]));
  expect(new Set(inv.hosts.keys())).toEqual(ansibleHosts);

  // Membership incl. children: every non-empty group on either side, same hosts.
  const labGroups = new Map(
    [...inv.groups].filter(([g, m]) => g !== "all" && m.size > 0).map(([g, m]) => [g, new Set(m)]),
  );
  expect(labGroups).toEqual(new Map([...ansibleMembers(list)].filter(([, m]) => m.size > 0)));

  for (const [name, host] of inv.hosts) {
    const want = hostvars[name] ?? {};
    const vaulted = Object.keys(want).filter((k) => isVaulted(want[k]));
    const plain = Object.fromEntries(
      Object.entries(want).filter(([k, v]) => !k.startsWith("ansible_") && !isVaulted(v)),
    );
    expect(host.vars, `vars of ${name}`).toEqual(plain);
    for (const k of vaulted)
      expect(report).toMatch(new RegExp(`${k} \\(.*\\) is vaulted[^\\n]*\\n[^\\n]*\\n\\s+lab secrets set \\S*${k}`));
    const c = host.connection;
    expect(c.address, `address of ${name}`).toBe(want.ansible_host ?? name);
    expect(c.port, `port of ${name}`).toBe(Number(want.ansible_port ?? 22));
    expect(c.user, `user of ${name}`).toBe(want.ansible_user ?? "root");
    expect(c.become, `become of ${name}`).toBe(ansibleBool(want.ansible_become ?? false));
    expect(c.type, `type of ${name}`).toBe(want.ansible_connection === "local" ? "local" : "ssh");
    const jump = /ProxyJump=(\S+)/.exec(
      typeof want.ansible_ssh_common_args === "string" ? want.ansible_ssh_common_args : "",
    )?.[1];
    expect(c.bastion?.name, `bastion of ${name}`).toBe(jump);
    const key = want.ansible_ssh_private_key_file as string | undefined;
    expect(c.keyFile, `key_file of ${name}`).toBe(key ? resolve(root, key.replace(/^~/, homedir())) : undefined);
  }
}

it("lab check accepts a converted inventory (with a minimal playbook)", { timeout: 180_000 }, async () => {
  const { root } = await convert(join(FIXTURES, "ansible", "ini", "hosts"));
  const { writeProjectFiles } = await import("../helpers/project.ts");
  await writeProjectFiles(root, {
    "playbooks/site.ts": `import { definePlaybook, inline, file } from ${LAB};\nexport default definePlaybook({ name: "site", plays: [{ name: "motd", hosts: "servers", roles: (h) => [inline([file({ path: "/etc/motd", content: String(h.vars.domain) + "\\n" })])] }] });\n`,
    "tsconfig.json": JSON.stringify({ extends: join(REPO, "tsconfig.json"), include: ["playbooks"] }),
  });
  await symlink(join(REPO, "node_modules"), join(root, "node_modules"));
  const r = await run(process.execPath, [join(REPO, "bin", "lab.mjs"), "-C", root, "check"], {
    timeout: 170_000,
  }).catch((e: { code: number; stdout: string; stderr: string }) => e);
  expect(r.stderr).toBe("");
  expect(r.stdout).toContain("types: ok");
  expect(r.stdout).toContain("playbooks/site.ts: ok (1 play(s), 8 step(s))");
  expect("code" in r ? r.code : 0).toBe(0);
});
