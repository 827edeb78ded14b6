// `lab plan` refuses bad input with exit 2 and a position before any host is
// contacted: a misspelled or mistyped declared host var (YAML position, "did you
// mean"), a misspelled or mistyped resource option (the playbook/role line), and
// a role var of the wrong type (the YAML of the value).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCommand } from "../../../src/cli/run-command.ts";
import { LabError } from "../../../src/errors.ts";
import { LAB, makeProject, snapshot, writeProjectFiles } from "../helpers/project.ts";

const ROLE = `import { Type, defineRole, file, line } from ${LAB};
export const motd = defineRole({
  name: "motd",
  vars: Type.Object({ text: Type.String(), admins: Type.Array(Type.String()) }, { additionalProperties: false }),
  resources: (v, host) => [
    file({ path: String(host.vars.dir) + "/motd", content: v.text + v.admins.join(",") }),
    line({ path: String(host.vars.dir) + "/conf", line: "mode=x", create: true, ...(host.vars.bad_line ? { regex: "^mode=" } : {}) } as never),
  ],
});
`;
const VARS = `import { Type, defineHostVars } from ${LAB};
export const vars = defineHostVars({
  dir: Type.String(),
  text: Type.String({ default: "hello" }),
  admins: Type.Array(Type.String(), { default: [] }),
  compose_stacks: Type.Optional(Type.Array(Type.String())),
  bad_line: Type.Optional(Type.Boolean()),
  bad_file: Type.Optional(Type.Boolean()),
});
`;
const SITE = `import { definePlaybook, file, inline } from ${LAB};
import { vars } from "../inventory/vars.ts";
import { motd } from "../roles/motd.ts";
export default definePlaybook({
  name: "site", vars,
  plays: [{ name: "p", hosts: "all", roles: (host) => [
    inline(host.vars.bad_file ? [file({ path: host.vars.dir + "/x", contnet: "x" } as never)] : []),
    motd({ text: host.vars.text, admins: host.vars.admins }),
  ] }],
});
`;

async function project(hostsYaml: string): Promise<string> {
  return makeProject({
    "roles/motd.ts": ROLE,
    "inventory/vars.ts": VARS,
    "playbooks/site.ts": SITE,
    "inventory/hosts.yaml": hostsYaml,
  });
}
const hosts = (extra = "", groupVars = "") => `connection: { type: local }
hosts:
  alpha:
    vars:
      dir: /nonexistent/lab-plan-validation${extra}
groups:
  web:
    hosts: [alpha]
    vars: {${groupVars}}
`;

async function plan(root: string, extraVars: Record<string, unknown> = {}): Promise<LabError> {
  const before = await snapshot(root);
  const e = await runCommand({
    root,
    inventory: join(root, "inventory"),
    playbook: join(root, "playbooks", "site.ts"),
    check: true,
    forks: 1,
    extraVars,
    json: false,
    verbose: false,
    stdout: devNull(),
    stderr: devNull(),
  }).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof LabError)) throw new Error(`expected a LabError, got ${String(e)}`);
  expect(e.code).toBe(2);
  expect(await snapshot(root)).toEqual(before);
  return e;
}
const devNull = () => ({ write: () => true }) as unknown as NodeJS.WritableStream;

describe("lab plan: exit 2 with a position", () => {
  it("a misspelled host var: where it is written, and the declared name it resembles", async () => {
    const root = await project(hosts("\n      compose_stack: [wiki]"));
    const e = await plan(root);
    expect(e.message).toBe(
      `hosts.alpha.vars.compose_stack: host var "compose_stack" is not declared (did you mean "compose_stacks"?)`,
    );
    expect(e.where).toEqual({ file: join(root, "inventory", "hosts.yaml"), line: 6, col: 22 });
  });

  it("a host var of the wrong type, in a group", async () => {
    const root = await project(hosts("", " admins: alice "));
    const e = await plan(root);
    expect(e.message).toBe("groups.web.vars.admins: must be array");
    expect(e.where).toEqual({ file: join(root, "inventory", "hosts.yaml"), line: 9, col: 21 });
  });

  it("an --extra-vars string is coerced to the declared type, and refused when it cannot be", async () => {
    const root = await project(hosts());
    const e = await plan(root, { bad_line: "maybe" });
    expect(e.message).toBe("--extra-vars bad_line: must be boolean");
  });

  it("a misspelled option of a resource in a role: the option, the resource and the role's line", async () => {
    const root = await project(hosts());
    const e = await plan(root, { bad_line: "true" });
    expect(e.message).toContain(`line: unknown option "regex" (did you mean "regexp"?)`);
    expect(e.where).toMatchObject({ file: join(root, "roles", "motd.ts"), line: 7 });
  });

  it("a misspelled option of a resource listed in the playbook: the playbook's line", async () => {
    const root = await project(hosts("\n      bad_file: true"));
    const e = await plan(root);
    expect(e.message).toContain(`file: unknown option "contnet" (did you mean "content"?)`);
    expect(e.where).toMatchObject({ file: join(root, "playbooks", "site.ts"), line: 7 });
  });

  it("a mistyped option value names the option", async () => {
    const root = await makeProject({
      "inventory/hosts.yaml": "connection: { type: local }\nhosts:\n  alpha: {}\n",
      "playbooks/site.ts": `import { definePlaybook, inline, service } from ${LAB};\nexport default definePlaybook({ name: "s", plays: [{ name: "p", hosts: "all", roles: () => [\n  inline([service({ name: "cron", state: "running" } as never)]),\n] }] });\n`,
    });
    const e = await plan(root);
    expect(e.message).toContain(`service: option state: must be one of ["started","stopped"]`);
    expect(e.where).toMatchObject({ file: join(root, "playbooks", "site.ts"), line: 3 });
  });

  it("a host var of the wrong type that a role takes: the declared host var catches it where it is written", async () => {
    const root = await project(hosts("\n      text: 42"));
    const e = await plan(root);
    expect(e.message).toBe("hosts.alpha.vars.text: must be string");
    expect(e.where).toEqual({ file: join(root, "inventory", "hosts.yaml"), line: 6, col: 13 });
  });

  it("a role var of the wrong type without declared host vars: the role names it, at the YAML of the value", async () => {
    const root = await project(hosts("\n      text: hi\n      admins: alice"));
    await writeProjectFiles(root, { "playbooks/site.ts": SITE.replace('name: "site", vars,', 'name: "site",') });
    const e = await plan(root);
    expect(e.message).toBe("role motd: vars.admins: must be array");
    expect(e.where).toMatchObject({ file: join(root, "inventory", "hosts.yaml"), line: 7, col: 15, host: "alpha" });
    expect(e.hint).toContain(`${join(root, "playbooks", "site.ts")}:8`);
  });
});
