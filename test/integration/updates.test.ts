// Role updates on a real test host (Debian's unattended-upgrades), against a local
// apt repository with an origin of its own (no network): `lab plan` shows the
// pending upgrade and changes nothing; apply configures origins, window, reboot
// and mail as apt itself reads them; a second apply changes nothing; the window's
// job, run as cron runs it, really upgrades from the allowed origin only.
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startHosts, type TestLab } from "../hosts/hosts.ts";
import { REPO, changedCount, inHost, makeProject, type TestProject } from "./project.ts";

const run = promisify(execFile);
const IMAGE = "lab-testhost-services:bookworm";

const PLAYBOOK = `
import { definePlaybook } from "@lab";
import { updates } from "${join(REPO, "roles/updates.ts")}";
export default definePlaybook({ name: "updates", plays: [{ name: "updates", hosts: "upd1", roles: () => [updates({
  origins: ["origin=lab-test"],
  window: { days: "1-5", start: "03:30", hours: 1 },
  reboot: { when: "if-required", time: "04:00", withUsers: false },
  mail: { to: "root", report: "only-on-error" },
})] }] });
`;

let lab: TestLab;
let p: TestProject;
const on = async (script: string) => {
  const r = await inHost(lab.hosts[0]!.container, script);
  if (r.code !== 0) throw new Error(`${script}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

/** lab-upd-demo_VERSION_all.deb in dir. */
function deb(dir: string, version: string): string {
  const root = mkdtempSync(join(tmpdir(), "lab-upd-deb-"));
  mkdirSync(join(root, "DEBIAN"));
  writeFileSync(
    join(root, "DEBIAN/control"),
    `Package: lab-upd-demo\nVersion: ${version}\nArchitecture: all\nMaintainer: lab tests <root@localhost>\nDescription: lab updates test package\n`,
  );
  const out = join(dir, `lab-upd-demo_${version}_all.deb`);
  execFileSync("dpkg-deb", ["--root-owner-group", "--build", root, out], { stdio: "ignore" });
  return out;
}

/** A flat repository whose Release names an origin (what Origins-Pattern matches). */
function repository(): string {
  const repo = mkdtempSync(join(tmpdir(), "lab-upd-repo-"));
  deb(repo, "1.1");
  execFileSync("sh", ["-c", "dpkg-scanpackages --multiversion . > Packages 2>/dev/null"], { cwd: repo });
  const packages = readFileSync(join(repo, "Packages"));
  writeFileSync(
    join(repo, "Release"),
    `Origin: lab-test\nLabel: lab-test\nSuite: lab\nCodename: lab\nDate: ${new Date().toUTCString()}\nSHA256:\n ${createHash("sha256").update(packages).digest("hex")} ${packages.length} Packages\n`,
  );
  return repo;
}

beforeAll(async () => {
  await run("bash", [join(REPO, "test/hosts/services-image.sh")], { timeout: 900_000 });
  lab = await startHosts({
    prefix: "lab-it-dns",
    names: ["upd1"],
    subnet: "127.0.45",
    stateDir: ".lab/lab-it-dns-updates",
    image: IMAGE,
  });
  const c = lab.hosts[0]!.container;
  execFileSync("docker", ["cp", repository(), `${c}:/srv/lab-upd`]);
  execFileSync("docker", [
    "cp",
    deb(mkdtempSync(join(tmpdir(), "lab-upd-old-")), "1.0"),
    `${c}:/tmp/lab-upd-demo_1.0_all.deb`,
  ]);
  // Only the local repository: the image's Debian mirror stays out of this test.
  await on(
    "dpkg -i /tmp/lab-upd-demo_1.0_all.deb >/dev/null && mv /etc/apt/sources.list /etc/apt/sources.list.lab-saved" +
      " && echo 'deb [trusted=yes] file:/srv/lab-upd ./' > /etc/apt/sources.list.d/lab-upd.list && apt-get update -qq",
  );
  p = await makeProject(lab, { groups: {}, files: { "playbooks/updates.ts": PLAYBOOK } });
}, 900_000);

afterAll(async () => {
  if (process.env.LAB_KEEP_HOSTS !== "1") await lab?.stop();
});

it("lab plan shows the pending upgrades per host and changes nothing", async () => {
  const plan = await p.lab(["plan", "playbooks/updates.ts"]);
  expect(plan.code, plan.stderr).toBe(0);
  expect(plan.stdout).toContain("= report:pending-upgrades: 1 upgrade pending: lab-upd-demo");
  expect(await on("test -e /etc/apt/apt.conf.d/52lab-unattended-upgrades && echo present || echo absent")).toBe(
    "absent\n",
  );
  expect(await on("dpkg-query -W -f='${Version}' lab-upd-demo")).toBe("1.0");
});

it("configures unattended-upgrades from the vars as apt reads them, then a second apply changes nothing", async () => {
  const first = await p.applyJson(["playbooks/updates.ts"]);
  expect(first.run.code, first.run.stderr + first.run.stdout).toBe(0);
  const config = await on("apt-config dump");
  // #clear replaced Debian's default origins: only the one from the vars is left.
  expect(config.split("\n").filter((l) => l.startsWith("Unattended-Upgrade::Origins-Pattern:: "))).toEqual([
    'Unattended-Upgrade::Origins-Pattern:: "origin=lab-test";',
  ]);
  for (const line of [
    'APT::Periodic::Unattended-Upgrade "0";',
    'Unattended-Upgrade::Automatic-Reboot "true";',
    'Unattended-Upgrade::Automatic-Reboot-Time "04:00";',
    'Unattended-Upgrade::Automatic-Reboot-WithUsers "false";',
    'Unattended-Upgrade::Mail "root";',
    'Unattended-Upgrade::MailReport "only-on-error";',
  ])
    expect(config).toContain(line);
  expect(await on("unattended-upgrade --dry-run -d 2>&1 | grep 'Allowed origins'")).toBe(
    "Allowed origins are: origin=lab-test\n",
  );
  expect(await on("cat /etc/cron.d/lab-unattended-upgrades")).toMatch(
    /^30 3 \* \* 1-5 root timeout --signal=TERM --kill-after=10m 60m sh -c /m,
  );
  // lab changed no package: the upgrade is for the window.
  expect(await on("dpkg-query -W -f='${Version}' lab-upd-demo")).toBe("1.0");

  const second = await p.applyJson(["playbooks/updates.ts"]);
  expect(second.run.code, second.run.stderr).toBe(0);
  expect(changedCount(second.report)).toBe(0);
  expect(second.report.steps.find((s) => s.id === "report:pending-upgrades")).toMatchObject({
    status: "ok",
    note: "1 upgrade pending: lab-upd-demo",
  });
});

it("the window's job, run as cron runs it, upgrades from the allowed origin; the plan then shows none pending", async () => {
  const entry = (await on("grep '^30 3' /etc/cron.d/lab-unattended-upgrades")).trim();
  const command = entry.split(/\s+/).slice(6).join(" ");
  await on(command);
  expect(await on("dpkg-query -W -f='${Version}' lab-upd-demo")).toBe("1.1");
  const plan = await p.lab(["plan", "playbooks/updates.ts"]);
  expect(plan.code, plan.stderr).toBe(0);
  expect(plan.stdout).toContain("= report:pending-upgrades: 0 upgrades pending");
});
