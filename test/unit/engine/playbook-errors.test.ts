// A playbook or role that throws, while loading or while expanding for a host,
// gets the file:line:col of the throw (from the stack, through tsx's source maps).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LabError } from "../../../src/errors.ts";
import { LAB, makeProject, runLab } from "../helpers/project.ts";

const inventory = "connection:\n  type: local\nhosts:\n  alpha: {}\n";

async function failure(files: Record<string, string>): Promise<LabError> {
  const root = await makeProject({ "inventory/hosts.yaml": inventory, ...files });
  const e: unknown = await runLab(root).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(LabError);
  return Object.assign(e as LabError, { root });
}

describe("playbook errors carry the position of the throw", () => {
  it("a playbook that throws while loading", async () => {
    const e = await failure({
      "playbooks/site.ts": `import { definePlaybook } from ${LAB};
type Port = number;
const port: Port = 80;
if (port) throw new Error("no ports today");
export default definePlaybook({ name: "x", plays: [] });
`,
    });
    expect(e.code).toBe(2);
    expect(e.where).toMatchObject({ line: 4, col: 17 });
    expect(e.where.file).toMatch(/playbooks\/site\.ts$/);
    expect(e.format()).toMatch(/playbooks\/site\.ts:4:17: playbook .* failed to load: no ports today/);
  });

  it("a role that throws while expanding for a host: the role's line, not just the playbook", async () => {
    const e = await failure({
      "roles/app.ts": `import { Type, defineRole, file } from ${LAB};
export const app = defineRole({
  name: "app",
  vars: Type.Object({}),
  resources: () => [
    file({ path: "etc/app.conf", content: "x" }),
  ],
});
`,
      "playbooks/site.ts": `import { definePlaybook } from ${LAB};
import { app } from "../roles/app.ts";
export default definePlaybook({ name: "x", plays: [{ name: "p", hosts: "all", roles: () => [app({})] }] });
`,
    });
    expect(e.code).toBe(2);
    expect(e.where.file).toBe(join((e as unknown as { root: string }).root, "roles/app.ts"));
    expect(e.where).toMatchObject({ line: 6, col: 5 });
    expect(e.message).toContain('path "etc/app.conf" is not absolute');
  });

  it("a play's roles() that throws", async () => {
    const e = await failure({
      "playbooks/site.ts": `import { definePlaybook } from ${LAB};
export default definePlaybook({ name: "x", plays: [{ name: "p", hosts: "all", roles: (h) => {
  if (h.name === "alpha") throw new TypeError("alpha is special");
  return [];
} }] });
`,
    });
    expect(e.code).toBe(2);
    expect(e.where, JSON.stringify(e.where)).toMatchObject({ line: 3, col: 33 });
    expect(e.where.file).toMatch(/playbooks\/site\.ts$/);
  });
});

describe("a role declared without a vars schema", () => {
  it("is bad input naming the role and the line, not an internal error", async () => {
    const e = await failure({
      "playbooks/site.ts": `import { definePlaybook, defineRole } from ${LAB};
// An untyped (pre-TypeBox) role: \`schema\` instead of \`vars\`.
const old = (defineRole as (d: unknown) => (v: unknown) => never)({ name: "old", schema: { type: "object" }, resources: () => [] });
export default definePlaybook({ name: "x", plays: [{ name: "p", hosts: "all", roles: () => [old({})] }] });
`,
    });
    expect(e.code).toBe(2);
    expect(e.message).toBe('role "old": no vars schema');
    expect(e.where).toMatchObject({ line: 3 });
    expect(e.where.file).toMatch(/playbooks\/site\.ts$/);
  });
});
