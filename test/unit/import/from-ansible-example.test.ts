// examples/from-ansible (the playbook docs/from-ansible.md shows both ways) stays
// real: the Ansible version is what ansible-playbook lists, its inventory
// converts with `lab import ansible`, and the lab version expands against it to
// the same tasks, tags and handler (no host contacted). The doc's code blocks are
// the example's files, verbatim.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { importAnsible } from "../../../src/cli/import-command.ts";
import { RunContext } from "../../../src/engine/context.ts";
import { prepare } from "../../../src/engine/runner.ts";
import { tempDir } from "../helpers/temp.ts";

const REPO = resolve(import.meta.dirname, "../../..");
const EX = join(REPO, "examples", "from-ansible");

async function expand(selection: { tags?: string[]; limit?: string } = {}) {
  const out = await tempDir();
  const code = await importAnsible({
    root: out,
    source: join(EX, "ansible", "inventory.ini"),
    out: join(out, "inventory"),
    force: false,
    stdout: { write: () => true } as unknown as NodeJS.WritableStream,
  });
  expect(code).toBe(0);
  const run = await RunContext.open({
    root: join(EX, "lab"),
    inventory: join(out, "inventory"),
    standIns: true,
    signal: new AbortController().signal,
    log: { debug: () => {}, warn: () => {} },
  });
  const { plays } = await prepare(run, join(EX, "lab", "playbooks", "site.ts"), selection).finally(() => run.close());
  const inv = run.inventory;
  return { plays, inv, converted: await readFile(join(out, "inventory", "hosts.yaml"), "utf8") };
}

describe("examples/from-ansible", () => {
  it("the lab version expands per host like the Ansible play", async () => {
    const { plays, inv } = await expand();
    expect(plays.map((p) => p.name)).toEqual(["web servers"]);
    const hosts = plays[0]!.hosts;
    expect(hosts.map((h) => h.host)).toEqual(["web1", "web2"]);
    for (const h of hosts) {
      expect(h.steps.map((s) => s.resource.id)).toEqual([
        "packages:present:nginx",
        "file:/etc/nginx/sites-enabled/default",
        "service:nginx",
      ]);
      expect(h.steps.map((s) => [...s.tags].sort())).toEqual([["nginx"], ["config", "nginx"], ["nginx"]]);
      expect([...h.handlers.keys()]).toEqual(["restart nginx"]);
    }
    const conf = (host: string) =>
      (hosts.find((h) => h.host === host)!.steps[1]!.resource as unknown as { want: { content: string } }).want.content;
    expect(conf("web1")).toBe(
      "server {\n    listen 8080;\n    server_name www.home.arpa;\n    root /var/www/html;\n}\n",
    );
    expect(conf("web2")).toContain("listen 80;");
    // ansible_user / ansible_become / ansible_host became connection fields.
    expect(inv.hosts.get("web1")!.connection).toMatchObject({ address: "10.0.10.11", user: "admin", become: true });
  });

  it("tags and limit select what ansible-playbook --tags/--limit select", { timeout: 60_000 }, async () => {
    const { plays } = await expand({ tags: ["config"], limit: "web2" });
    expect(plays[0]!.hosts.map((h) => [h.host, h.steps.map((s) => s.resource.id)])).toEqual([
      ["web2", ["file:/etc/nginx/sites-enabled/default"]],
    ]);
    const r = await promisify(execFile)(
      "ansible-playbook",
      ["-i", "inventory.ini", "site.yml", "--list-tasks", "--list-hosts", "--tags", "config", "--limit", "web2"],
      { cwd: join(EX, "ansible"), timeout: 60_000 },
    );
    expect(r.stdout).toMatch(/hosts \(1\):\s+web2/);
    expect(r.stdout).toContain("nginx : the site's config\tTAGS: [config, nginx]");
    expect(r.stdout).not.toContain("nginx is installed");
  });

  it("docs/from-ansible.md shows the example's files and the converted inventory verbatim", async () => {
    const doc = await readFile(join(REPO, "docs", "from-ansible.md"), "utf8");
    const shown =
      /<!-- output: lab import ansible examples\/from-ansible\/ansible\/inventory\.ini -->\n```yaml\n([\s\S]*?)```\n/.exec(
        doc,
      )?.[1];
    expect(shown).toBe((await expand()).converted.split("\n").slice(2).join("\n"));
    const blocks = [...doc.matchAll(/<!-- file: (\S+) -->\n```\w*\n([\s\S]*?)```\n/g)];
    expect(blocks.map((b) => b[1])).toEqual(
      expect.arrayContaining([
        "examples/from-ansible/ansible/site.yml",
        "examples/from-ansible/ansible/roles/nginx/tasks/main.yml",
        "examples/from-ansible/ansible/roles/nginx/handlers/main.yml",
        "examples/from-ansible/lab/roles/nginx.ts",
        "examples/from-ansible/lab/playbooks/site.ts",
      ]),
    );
    for (const [, path, body] of blocks) expect(body, path).toBe(await readFile(join(REPO, path!), "utf8"));
  });
});
