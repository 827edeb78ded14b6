// A full run with secrets: the values reach the host (0600) and appear in NO
// output: progress, plan diffs, --json, -v debug lines, errors, the audit log.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, expect, inject, it } from "vitest";
import type { TestLabData } from "../hosts/hosts.ts";
import { changedCount, inHost, makeProject, type JsonReport, type TestProject } from "./project.ts";

const DB_PASSWORD = "s3cr3t-Db-Pa55word-9f2c";
const TOKEN = "tok_5a9d1c0e7b3f4a21";
const NEW_PASSWORD = "n3w-Db-Pa55word-71ae";

let lab: TestLabData;
let p: TestProject;
let env: Record<string, string>;

const setSecret = async (name: string, value: string) =>
  (await p.lab(["secrets", "set", name], { env, stdin: `${value}\n` })).code;

beforeAll(async () => {
  lab = inject("testLab");
  p = await makeProject(lab, {
    files: {
      "templates/app.env.njk": "DB_USER=app\nDB_PASSWORD={{ password }}\n",
    },
  });
  await p.write(
    "playbooks/site.ts",
    `
import { Type, definePlaybook, defineRole, directory, file, command, sh } from "${join(import.meta.dirname, "../../src/index.ts")}";
const app = defineRole({
  name: "app",
  vars: Type.Object({ fail: Type.Boolean() }, { additionalProperties: false }),
  resources: (v, _h, lab) => [
    directory({ path: "/etc/app", mode: "0755" }),
    file({ path: "/etc/app/app.env", content: lab.template("app.env.njk", { password: lab.secret("db_password") }) }),
    file({ path: "/etc/app/token", content: lab.secret("api_token") }),
    ...(v.fail ? [command({ command: sh\`echo using \${lab.secret("api_token").reveal()} >&2; exit 3\`, creates: "/nonexistent" })] : []),
  ],
});
export default definePlaybook({ name: "secrets", plays: [{ name: "app", hosts: "db1", roles: (h) => [app({ fail: h.vars.fail === "yes" })] }] });
`,
  );
  env = { LAB_AGE_KEY_FILE: join(p.root, "age.key") };
  const init = await p.lab(["secrets", "init"], { env });
  expect(init.code, init.stderr).toBe(0);
  expect(await setSecret("db_password", DB_PASSWORD)).toBe(0);
  expect(await setSecret("api_token", TOKEN)).toBe(0);
  const db1 = lab.hosts.find((h) => h.name === "db1")!;
  await inHost(db1.container, "rm -rf /etc/app");
});

it("never shows a secret value, in any output of any run", async () => {
  const outputs: string[] = [];
  const keep = <R extends { stdout: string; stderr: string }>(r: R): R => (outputs.push(r.stdout, r.stderr), r);
  const plan = keep(await p.lab(["plan", "-v"], { env }));
  expect(plan.code, plan.stderr).toBe(0);
  expect(plan.stdout).toContain("(secret content)");
  const first = keep(await p.lab(["apply", "-y", "-v", "--json"], { env }));
  expect(first.code, first.stderr).toBe(0);
  const second = keep(await p.lab(["apply", "-y", "--json"], { env }));
  expect(changedCount(JSON.parse(second.stdout) as JsonReport)).toBe(0);

  // A changed secret shows as changed, never with its value.
  await setSecret("db_password", NEW_PASSWORD);
  const changed = keep(await p.lab(["plan", "-v"], { env }));
  expect(changed.stdout).toMatch(/update \/etc\/app\/app\.env \(secret content\)/);
  keep(await p.lab(["apply", "-y", "-v"], { env }));
  // A failing command that prints a secret: the error is redacted.
  const failing = keep(await p.lab(["apply", "-y", "-v", "-e", "fail=yes"], { env }));
  expect(failing.code).toBe(3);
  expect(failing.stdout + failing.stderr).toContain("«redacted»");
  outputs.push(await readFile(join(p.root, ".lab/audit.jsonl"), "utf8"));

  for (const out of outputs) for (const v of [DB_PASSWORD, TOKEN, NEW_PASSWORD]) expect(out).not.toContain(v);

  const db1 = lab.hosts.find((h) => h.name === "db1")!;
  expect((await inHost(db1.container, "cat /etc/app/app.env")).stdout).toBe(
    `DB_USER=app\nDB_PASSWORD=${NEW_PASSWORD}\n`,
  );
  expect((await inHost(db1.container, "stat -c %a /etc/app/app.env /etc/app/token")).stdout).toBe("600\n600\n");
  // Nothing left in temp directories on the host.
  expect((await inHost(db1.container, "ls -a /etc/app | grep -c lab-tmp || true")).stdout.trim()).toBe("0");
});
