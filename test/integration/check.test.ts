// `lab check`: a wrong var in a playbook is a type error (exit 2, file and
// line); a correct project passes without contacting any host or decrypting.
import { execFile } from "node:child_process";
import { symlink } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, expect, inject, it } from "vitest";
import type { TestLabData } from "../hosts/hosts.ts";
import { LAB_API, REPO, makeProject, type TestProject } from "./project.ts";

const ROLE = `
import { Type, defineRole, file } from "@lab";
export const motd = defineRole({
  name: "motd",
  vars: Type.Object({ text: Type.String(), lines: Type.Integer() }, { additionalProperties: false }),
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
      "tsconfig.json": JSON.stringify({
        extends: join(REPO, "tsconfig.json"),
        include: ["roles", "playbooks", "scripts"],
      }),
      // In the tsconfig, but neither a playbook, a role, inventory vars nor imported by one: not lab check's business.
      "scripts/tool.ts": `export const n: number = "not a number";\n`,
    },
  });
  await symlink(join(REPO, "node_modules"), join(p.root, "node_modules"));
});

it("passes a correct project", async () => {
  const r = await p.lab(["check"]);
  expect(r.stderr + r.stdout).toContain("playbooks/site.ts: ok (1 play(s), 3 step(s))");
  expect(r.stdout).toContain("types: ok (playbooks/site.ts, roles/motd.ts and what they import)\n");
  expect(r.code).toBe(0);
});

it("fails a wrong var type at compile time, naming file and line", async () => {
  await p.write("playbooks/site.ts", playbook(`{ text: "hi", lines: "2" }`));
  const r = await p.lab(["check"]);
  expect(r.code).toBe(2);
  expect(r.stdout).toMatch(
    /playbooks\/site\.ts\(4,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/,
  );
  expect(r.stdout).not.toContain("types: ok");
  // Unchanged since: the incremental cache (.lab/check/) reports the same errors again, never "ok".
  const again = await p.lab(["check"]);
  expect(again.code).toBe(2);
  expect(again.stdout).toMatch(/playbooks\/site\.ts\(4,\d+\): error TS2322/);
  expect(again.stdout).not.toContain("types: ok");
  // Fixed: passes again.
  await p.write("playbooks/site.ts", playbook(`{ text: "hi", lines: 2 }`).replaceAll("@lab", LAB_API));
  const fixed = await p.lab(["check"]);
  expect(fixed.stdout).toContain("types: ok (playbooks/site.ts, roles/motd.ts and what they import)\n");
  expect(fixed.code).toBe(0);
});

it("passes on a fresh checkout of this repository, before the demo made anything (.lab/, secrets)", async () => {
  const { execFileSync } = await import("node:child_process");
  const { mkdtemp } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const clone = await mkdtemp(join(tmpdir(), "lab-clone-"));
  // Exactly the tracked files, as a clone has them (no .lab/, no secrets key).
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: REPO }).toString().split("\0").filter(Boolean);
  execFileSync("tar", ["-C", REPO, "--null", "-T", "-", "-cf", join(clone, "repo.tar")], { input: files.join("\0") });
  execFileSync("tar", ["-C", clone, "-xf", join(clone, "repo.tar")]);
  await symlink(join(REPO, "node_modules"), join(clone, "node_modules"));
  const r = await new Promise<{ code: number; out: string }>((done) => {
    execFile(
      "node",
      [join(clone, "bin/lab.mjs"), "-C", clone, "check"],
      { cwd: clone, timeout: 180_000, env: { ...process.env, HOME: clone, LAB_AGE_KEY_FILE: join(clone, "no-key") } },
      (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, out: stdout + stderr }),
    );
  });
  expect(r.out).toContain("playbooks/site.ts: ok");
  expect(r.code, r.out).toBe(0);
});
