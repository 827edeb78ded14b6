// apt packages against a local repository served from the host's filesystem
// (no network): present, latest, absent; adjacent package steps make one apt call.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import type { TestLabData } from "../hosts/hosts.ts";
import { changedCount, inHost, makeProject, type TestProject } from "./project.ts";

let lab: TestLabData;
let p: TestProject;
const db1 = () => lab.hosts.find((h) => h.name === "db1")!;
const repo = mkdtempSync(join(tmpdir(), "lab-apt-"));

/** Build lab-NAME_VERSION_all.deb into the repo and re-index it. */
function addDeb(name: string, version: string) {
  const dir = mkdtempSync(join(tmpdir(), "lab-deb-"));
  mkdirSync(join(dir, "DEBIAN"));
  mkdirSync(join(dir, "usr/share", name), { recursive: true });
  writeFileSync(
    join(dir, "DEBIAN/control"),
    `Package: ${name}\nVersion: ${version}\nArchitecture: all\nMaintainer: lab tests <root@localhost>\nDescription: lab test package\n`,
  );
  writeFileSync(join(dir, "usr/share", name, "VERSION"), `${version}\n`);
  execFileSync("dpkg-deb", ["--root-owner-group", "--build", dir, join(repo, `${name}_${version}_all.deb`)], {
    stdio: "ignore",
  });
  execFileSync("sh", ["-c", "dpkg-scanpackages --multiversion . > Packages"], { cwd: repo, stdio: "ignore" });
}

async function publish() {
  await inHost(db1().container, "rm -rf /srv/lab-repo");
  execFileSync("docker", ["cp", repo, `${db1().container}:/srv/lab-repo`]);
}

const playbook = (body: string) => `
import { definePlaybook, inline, file, packages } from "@lab";
export default definePlaybook({ name: "pkgs", plays: [{ name: "pkgs", hosts: "db1", roles: () => [inline([
  file({ path: "/etc/apt/sources.list.d/lab-test.list", content: "deb [trusted=yes] file:/srv/lab-repo ./\\n" }),
  ${body}
])] }] });
`;

beforeAll(async () => {
  lab = inject("testLab");
  addDeb("lab-hello", "1.0");
  addDeb("lab-extra", "1.0");
  // Only the local repository: the image's Debian mirror stays out of these tests.
  await inHost(
    db1().container,
    "mv -n /etc/apt/sources.list /etc/apt/sources.list.lab-saved; dpkg -P lab-hello lab-extra; rm -f /etc/apt/sources.list.d/lab-test.list; true",
  );
  await publish();
  p = await makeProject(lab, {
    files: {
      "playbooks/present.ts": playbook(
        `packages({ names: ["lab-hello"], updateCache: true }), packages({ names: ["lab-extra", "procps"], updateCache: true }),`,
      ),
      "playbooks/latest.ts": playbook(`packages({ names: ["lab-hello"], state: "latest" }),`),
      "playbooks/absent.ts": playbook(`packages({ names: ["lab-hello", "lab-extra"], state: "absent" }),`),
    },
  });
});

afterAll(async () => {
  await inHost(
    db1().container,
    "dpkg -P lab-hello lab-extra; rm -f /etc/apt/sources.list.d/lab-test.list; mv /etc/apt/sources.list.lab-saved /etc/apt/sources.list; rm -rf /srv/lab-repo; true",
  );
});

const installed = async (name: string) =>
  (await inHost(db1().container, `dpkg-query -W -f='\${Version}' ${name} 2>/dev/null`)).stdout;

it("installs with one apt call, then changes nothing", async () => {
  const first = await p.applyJson(["playbooks/present.ts"]);
  expect(first.run.code, first.run.stderr + first.run.stdout).toBe(0);
  const pkgSteps = first.report.steps.filter((s) => s.id.startsWith("packages:"));
  expect(pkgSteps.map((s) => s.id)).toEqual(["packages:present:lab-extra,lab-hello,procps"]);
  expect(pkgSteps[0]!.changes.map((c) => c.summary).sort()).toEqual(["install lab-extra", "install lab-hello"]);
  expect(await installed("lab-hello")).toBe("1.0");
  expect(await installed("lab-extra")).toBe("1.0");
  expect(changedCount((await p.applyJson(["playbooks/present.ts"])).report)).toBe(0);
});

it("upgrades to the candidate with state latest", async () => {
  addDeb("lab-hello", "1.1");
  await publish();
  await inHost(db1().container, "apt-get update -q >/dev/null 2>&1");
  const plan = await p.lab(["plan", "playbooks/latest.ts"]);
  expect(plan.stdout).toContain("upgrade lab-hello 1.0 -> 1.1");
  expect(await installed("lab-hello")).toBe("1.0");
  const up = await p.applyJson(["playbooks/latest.ts"]);
  expect(up.run.code, up.run.stderr).toBe(0);
  expect(await installed("lab-hello")).toBe("1.1");
  expect(changedCount((await p.applyJson(["playbooks/latest.ts"])).report)).toBe(0);
});

it("removes with state absent, then changes nothing", async () => {
  const rm = await p.applyJson(["playbooks/absent.ts"]);
  expect(rm.run.code, rm.run.stderr).toBe(0);
  expect(await installed("lab-hello")).toBe("");
  expect(changedCount((await p.applyJson(["playbooks/absent.ts"])).report)).toBe(0);
});
