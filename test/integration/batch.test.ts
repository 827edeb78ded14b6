// A host's changes in one remote script (ADR 0023), on fresh real hosts: the bench
// playbook's first run takes at most 3 round trips per host (facts, one batch, one
// read-back) and leaves the hosts as the playbook says; a failing middle step is
// reported as that step and the steps after it do not run; second applies change nothing.
import { afterAll, beforeAll, expect, it } from "vitest";
import { labData, startHosts, type TestLab } from "../hosts/hosts.ts";
import { changedCount, inHost, makeProject, type TestProject } from "./project.ts";

const SITE = `
import { Type, definePlaybook, defineRole, directory, file, line, packages, restartService, service } from "@lab";
const base = defineRole({
  name: "base",
  vars: Type.Object({}),
  resources: (_v, host) => ({
    resources: [
      packages({ names: ["cron", "procps"] }),
      directory({ path: "/etc/batch", mode: "0755" }),
      file({ path: "/etc/batch/motd", content: "host " + host.name + "\\n", mode: "0644" }),
      file({ path: "/etc/batch/static.conf", content: "level=3\\n", mode: "0640" }),
      line({ path: "/etc/batch/settings.conf", line: "mode=managed", regexp: "^mode=", create: true }),
      file({ path: "/etc/cron.d/batch-heartbeat", content: "*/5 * * * * root true\\n", mode: "0644" }, { notify: ["restart cron"] }),
      service({ name: "cron", state: "started", enabled: true }),
    ],
    handlers: [restartService("cron")],
  }),
});
export default definePlaybook({ name: "site", plays: [{ name: "site", hosts: "all", roles: () => [base({})] }] });
`;

const BROKEN = `
import { definePlaybook, inline, file } from "@lab";
export default definePlaybook({ name: "broken", plays: [{ name: "broken", hosts: "b1", roles: () => [inline([
  file({ path: "/srv/broken/one", content: "1\\n" }),
  file({ path: "/srv/broken/plain/two", content: "2\\n" }),
  file({ path: "/srv/broken/three", content: "3\\n" }),
])] }] });
`;

let lab: TestLab;
let p: TestProject;
beforeAll(async () => {
  lab = await startHosts({ prefix: "lab-speed", names: ["b1", "b2"], subnet: "127.0.51", stateDir: ".lab/it-speed" });
  p = await makeProject(labData(lab), {
    groups: { batch: { hosts: ["b1", "b2"] } },
    files: { "playbooks/site.ts": SITE, "playbooks/broken.ts": BROKEN },
  });
});
afterAll(async () => {
  await lab?.stop();
});

it("a first run takes at most 3 round trips per host and converges; the second changes nothing in 1", async () => {
  const first = await p.applyJson(["playbooks/site.ts"]);
  expect(first.run.code, first.run.stderr + first.run.stdout).toBe(0);
  for (const [name, h] of Object.entries(first.report.hosts)) {
    expect(h.changed, name).toBe(7); // 6 resources and the handler
    expect(h.roundTrips, name).toBeLessThanOrEqual(3);
  }
  expect(first.report.steps.filter((s) => s.host === "b1").map((s) => [s.id, s.status])).toEqual([
    ["packages:present:cron,procps", "ok"],
    ["directory:/etc/batch", "changed"],
    ["file:/etc/batch/motd", "changed"],
    ["file:/etc/batch/static.conf", "changed"],
    ["line:/etc/batch/settings.conf:^mode=", "changed"],
    ["file:/etc/cron.d/batch-heartbeat", "changed"],
    ["service:cron", "changed"],
    ["handler:restart cron", "changed"],
  ]);
  for (const h of lab.hosts) {
    const state = await inHost(
      h.container,
      "stat -c '%a %n' /etc/batch /etc/batch/motd /etc/batch/static.conf; cat /etc/batch/motd /etc/batch/settings.conf; /etc/init.d/cron status >/dev/null && echo running; ls /etc/rc2.d | grep -c cron",
    );
    expect(state.stdout).toBe(
      `755 /etc/batch\n644 /etc/batch/motd\n640 /etc/batch/static.conf\nhost ${h.name}\nmode=managed\nrunning\n1\n`,
    );
  }

  const second = await p.applyJson(["playbooks/site.ts"]);
  expect(second.run.code).toBe(0);
  expect(changedCount(second.report), JSON.stringify(second.report.steps, null, 1)).toBe(0);
  for (const h of Object.values(second.report.hosts)) expect(h.roundTrips).toBe(1);
});

it("a failing middle step is reported as that step; the step after it does not run; once fixed, it converges", async () => {
  const b1 = lab.hosts.find((h) => h.name === "b1")!.container;
  await inHost(b1, "rm -rf /srv/broken && mkdir -p /srv/broken && echo file > /srv/broken/plain");
  const run = await p.applyJson(["playbooks/broken.ts"]);
  expect(run.run.code, run.run.stderr).toBe(3);
  expect(run.report.steps.map((s) => [s.id, s.status])).toEqual([
    ["file:/srv/broken/one", "changed"],
    ["file:/srv/broken/plain/two", "failed"],
    ["file:/srv/broken/three", "skipped"],
  ]);
  expect(run.report.steps[1]!.reason).toMatch(/^write \/srv\/broken\/plain\/two failed \(exit 1\)/);
  expect(run.report.steps[2]!.reason).toBe("not run: an earlier step failed (file:/srv/broken/plain/two)");
  expect((await inHost(b1, "ls /srv/broken")).stdout).toBe("one\nplain\n");

  await inHost(b1, "rm /srv/broken/plain && mkdir /srv/broken/plain");
  const fixed = await p.applyJson(["playbooks/broken.ts"]);
  expect(fixed.run.code, fixed.run.stderr).toBe(0);
  expect(changedCount(fixed.report)).toBe(2);
  const again = await p.applyJson(["playbooks/broken.ts"]);
  expect(changedCount(again.report)).toBe(0);
});
