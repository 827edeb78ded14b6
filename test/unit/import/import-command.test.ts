// `lab import ansible` through the CLI entry point: what it writes, what it
// prints, and its exit codes.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { main } from "../../../src/cli/main.ts";
import { FIXTURES } from "../helpers/fixtures.ts";
import { tempDir } from "../helpers/temp.ts";

let out: string[];
let err: string[];
beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(process.stdout, "write").mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((s) => (err.push(String(s)), true));
});
afterEach(() => vi.restoreAllMocks());

it("writes hosts.yaml with the schema modeline and schema.json, and prints the report", async () => {
  const root = await tempDir();
  expect(await main(["-C", root, "import", "ansible", join(FIXTURES, "ansible", "mixed"), "-o", "inv"])).toBe(0);
  const text = await readFile(join(root, "inv", "hosts.yaml"), "utf8");
  expect(text.split("\n")[0]).toBe("# yaml-language-server: $schema=./schema.json");
  expect(JSON.parse(await readFile(join(root, "inv", "schema.json"), "utf8"))).toMatchObject({
    title: "lab inventory file",
  });
  const report = out.join("");
  expect(report).toContain("2 host(s), 2 group(s)"); // 20-static.ini is skipped, as Ansible skips *.ini in a folder
  expect(report).toMatch(/20-static\.ini: skipped: Ansible ignores files with this extension/);
  expect(report).toMatch(
    /dynamic inventory \(not converted\): 1\n {2}- \S+10-proxmox\.yml:1: inventory plugin community\.general\.proxmox/,
  );
  expect(report).toContain("ansible-inventory -i");
  expect(err.join("")).toBe("");
});

it("does not replace an existing file without --force", async () => {
  const root = await tempDir();
  const src = join(FIXTURES, "ansible", "ini", "hosts");
  expect(await main(["-C", root, "import", "ansible", src])).toBe(0);
  await writeFile(join(root, "inventory", "hosts.yaml"), "mine\n");
  expect(await main(["-C", root, "import", "ansible", src])).toBe(2);
  expect(err.join("")).toContain("hosts.yaml already exists");
  expect(await readFile(join(root, "inventory", "hosts.yaml"), "utf8")).toBe("mine\n");
  expect(await main(["-C", root, "import", "ansible", src, "--force"])).toBe(0);
  expect(await readFile(join(root, "inventory", "hosts.yaml"), "utf8")).toContain("web01:");
});

it("a broken INI line exits 2 naming file:line, and writes nothing", async () => {
  const root = await tempDir();
  const src = join(FIXTURES, "ansible", "errors", "ini-vars-line-without-equals", "hosts");
  expect(await main(["-C", root, "import", "ansible", src])).toBe(2);
  expect(err.join("")).toContain(`lab: error: ${src}:5: Expected key=value, got: http_port 8080`);
  await expect(readFile(join(root, "inventory", "hosts.yaml"))).rejects.toThrow(/ENOENT/);
});

it("refuses a file that conflicts with the output folder's other inventory files, writing nothing", async () => {
  const root = await tempDir();
  await mkdir(join(root, "inventory"));
  await writeFile(join(root, "inventory", "lab.yaml"), "hosts:\n  web01: { address: 10.9.9.9 }\n");
  expect(await main(["-C", root, "import", "ansible", join(FIXTURES, "ansible", "ini", "hosts")])).toBe(2);
  expect(err.join("")).toMatch(/conflicts with lab\.yaml in \S+inventory: host "web01" is defined twice/);
  await expect(readFile(join(root, "inventory", "hosts.yaml"))).rejects.toThrow(/ENOENT/);
});

it("lists what it could not convert, each with file:line and what to do", async () => {
  const root = await tempDir();
  expect(await main(["-C", root, "import", "ansible", join(FIXTURES, "ansible", "ini", "hosts")])).toBe(0);
  const report = out.join("");
  const at = (f: string) => join(FIXTURES, "ansible", "ini", f);
  expect(report).toContain(
    `vaulted values (not converted: move them into lab secrets): 1\n  - ${at("host_vars/db-a.yml")}:1: pg_password (host db-a) is vaulted`,
  );
  expect(report).toMatch(/\n {6}lab secrets set pg_password {3}# paste the value on stdin/);
  expect(report).toContain(
    `  - ${at("hosts")}:33: ansible_become_user="postgres" (group servers): lab becomes root only (sudo -n), not "postgres"`,
  );
  expect(report).toContain(`  - ${at("group_vars/servers")}:4: tier="from-group-vars" is what Ansible resolves`);
  expect(report).toMatch(/pinned on web01, web02, web03, web04\n/);
  expect(report).toContain(
    `  - ${at("hosts")}:38: greeting (group all) is a Jinja2 template: "hello {{ inventory_hostname }}"`,
  );
  expect(report).toContain(
    `  - ${at("group_vars/nosuchgroup.yml")}: group_vars/nosuchgroup names no group of the inventory`,
  );
  expect(report).not.toContain("ansible_python_interpreter");
});

it("-o FILE.yaml writes that file, with schema.json next to it", async () => {
  const root = await tempDir();
  expect(
    await main([
      "-C",
      root,
      "import",
      "ansible",
      join(FIXTURES, "ansible", "yaml", "hosts.yml"),
      "-o",
      "lab/from-ansible.yml",
    ]),
  ).toBe(0);
  expect(await readFile(join(root, "lab", "from-ansible.yml"), "utf8")).toContain("docker-a.home.arpa:");
  expect(await readFile(join(root, "lab", "schema.json"), "utf8")).toContain('"title": "lab inventory file"');
  expect(out.join("")).toContain(
    "-> lab/from-ansible.yml: 7 host(s), 5 group(s); check it with: lab -i lab/from-ansible.yml check",
  );
});
