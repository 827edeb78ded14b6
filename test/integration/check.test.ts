// `lab check`: a wrong var in a playbook is a type error (exit 2, file and
// line); a correct project passes without contacting any host or decrypting.
import { symlink } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, expect, inject, it } from "vitest";
import type { TestLabData } from "../hosts/hosts.ts";
import { REPO, makeProject, type TestProject } from "./project.ts";

const ROLE = `
import { defineRole, file } from "@lab";
export const motd = defineRole<{ text: string; lines: number }>({
  name: "motd",
  schema: { type: "object", properties: { text: { type: "string" }, lines: { type: "integer" } }, required: ["text", "lines"], additionalProperties: false },
  resources: (v) => [file({ path: "/etc/motd", content: v.text.repeat(v.lines) })],
});
`;
const playbook = (vars: string) => `
import { definePlaybook } from "@lab";
import { motd } from "../roles/motd.ts";
export default definePlaybook({ name: "site", plays: [{ name: "motd", hosts: "all", roles: () => [motd(${vars})] }] });
`;

let lab: TestLabData;
let p: TestProject;
beforeAll(async () => {
  lab = inject("testLab");
  p = await makeProject(lab, {
    files: {
      "roles/motd.ts": ROLE,
      "playbooks/site.ts": playbook(`{ text: "hi", lines: 2 }`),
      "tsconfig.json": JSON.stringify({ extends: join(REPO, "tsconfig.json"), include: ["roles", "playbooks"] }),
    },
  });
  await symlink(join(REPO, "node_modules"), join(p.root, "node_modules"));
});

it("passes a correct project", async () => {
  const r = await p.lab(["check"]);
  expect(r.stderr + r.stdout).toContain("playbooks/site.ts: ok (1 play(s), 3 step(s))");
  expect(r.code).toBe(0);
});

it("fails a wrong var type at compile time, naming file and line", async () => {
  await p.write("playbooks/site.ts", playbook(`{ text: "hi", lines: "2" }`));
  const r = await p.lab(["check"]);
  expect(r.code).toBe(2);
  expect(r.stdout).toMatch(/playbooks\/site\.ts\(4,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
});
