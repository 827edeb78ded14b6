// Built lab (dist/): a playbook's import of lab's src/*.ts resolves to the built module,
// and frames of either copy of lab's code are never taken for the user's.
import { resolve as resolvePath } from "node:path";
import { pathToFileURL } from "node:url";
import { expect, it } from "vitest";
import { isLabCode } from "../../../src/engine/lab-code.ts";
import { initialize, resolve } from "../../../src/engine/src-to-dist.ts";

const REPO = resolvePath(import.meta.dirname, "../../..");
const url = (p: string) => pathToFileURL(resolvePath(REPO, p)).href;

it("sends lab's src/*.ts to dist/*.js and leaves everything else alone", async () => {
  initialize({ src: url("src") + "/", dist: url("dist") + "/" });
  const next = (specifier: string) => Promise.resolve({ url: specifier, format: null });
  await expect(resolve(url("src/index.ts"), {}, next)).resolves.toEqual({
    url: url("dist/index.js"),
    format: "module",
  });
  await expect(resolve(url("src/engine/steps.ts"), {}, next)).resolves.toEqual({
    url: url("dist/engine/steps.js"),
    format: "module",
  });
  // The user's TypeScript (a playbook, a role) and lab's non-TypeScript files stay as resolved.
  await expect(resolve(url("playbooks/site.ts"), {}, next)).resolves.toEqual({
    url: url("playbooks/site.ts"),
    format: null,
  });
  await expect(resolve(url("src/proxmox/pve-apidata.json.gz"), {}, next)).resolves.toEqual({
    url: url("src/proxmox/pve-apidata.json.gz"),
    format: null,
  });
  await expect(resolve("node:fs", {}, next)).resolves.toEqual({ url: "node:fs", format: null });
});

it("counts src/ and dist/ as lab's code, a project's files (even inside this repository) not", () => {
  expect(isLabCode(resolvePath(REPO, "src/engine/steps.ts"))).toBe(true);
  expect(isLabCode(resolvePath(REPO, "dist/engine/steps.js"))).toBe(true);
  expect(isLabCode(resolvePath(REPO, "playbooks/site.ts"))).toBe(false);
  expect(isLabCode(resolvePath(REPO, "roles/base.ts"))).toBe(false);
  expect(isLabCode(resolvePath(REPO, "distant/x.ts"))).toBe(false);
  expect(isLabCode("/tmp/lab-it-x/playbooks/site.ts")).toBe(false);
});
