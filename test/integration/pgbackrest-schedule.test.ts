// Schedules over real SSH: a scheduled job is a cron entry on a host without
// systemd, and becomes a systemd service + timer once the host runs systemd
// (the cron entry then goes). The test hosts have no systemd, so "systemd" is
// a stand-in systemctl that keeps unit state in files and REFUSES to start a
// unit whose file changed since the last daemon-reload, as systemd warns.
import { beforeAll, afterAll, describe, expect, it } from "vitest";
import { startHosts, type TestLab } from "../hosts/hosts.ts";
import { changedCount, inHost, makeProject, type JsonReport, type TestProject } from "./project.ts";

const PLAYBOOK = `
import { definePlaybook, inline, cron, scheduledJob, systemdUnit } from "@lab";
export default definePlaybook({
  name: "schedules",
  plays: [{
    name: "schedules",
    hosts: "all",
    roles: (h) => [inline([
      scheduledJob({ name: "labit-job", description: "lab test job", user: "root", command: "echo ran >> /tmp/labit-job", schedule: String(h.vars.schedule ?? "*/15 * * * *") }),
      cron({ name: "labit-cron", schedule: "0 3 * * *", user: "root", command: "date +%F > /tmp/labit-cron", comment: "a plain cron entry" }),
      ...(h.vars.fake_systemd === "yes"
        ? [systemdUnit({ name: "labit-standalone.service", content: "[Service]\\nExecStart=/bin/true\\n", enabled: true, started: true })]
        : []),
    ])],
  }],
});
`;

// A systemctl stand-in: enable/start need the unit file, start refuses a file changed since daemon-reload.
const FAKE_SYSTEMCTL = `#!/bin/sh
echo "$*" >> /var/log/fake-systemctl.log
d=/var/lib/fake-systemd; mkdir -p "$d"
cmd=$1; shift; [ "$1" = --quiet ] && shift; u=$1; f=/etc/systemd/system/$u
case $cmd in
  daemon-reload) for x in /etc/systemd/system/*.service /etc/systemd/system/*.timer; do [ -e "$x" ] && sha256sum "$x" > "$d/$(basename "$x").loaded"; done; exit 0 ;;
  is-enabled) [ -e "$d/$u.enabled" ] ;;
  is-active) [ -e "$d/$u.active" ] ;;
  enable) [ -e "$f" ] && touch "$d/$u.enabled" ;;
  disable) rm -f "$d/$u.enabled" ;;
  start|restart) [ -e "$f" ] && sha256sum -c --status "$d/$u.loaded" 2>/dev/null || { echo "unit $u changed on disk: run daemon-reload" >&2; exit 1; }; touch "$d/$u.active" ;;
  stop) rm -f "$d/$u.active" ;;
  *) echo "fake systemctl: $cmd?" >&2; exit 1 ;;
esac
`;

let lab: TestLab;
let p: TestProject;
const host = () => lab.hosts[0]!;
const on = async (script: string) => (await inHost(host().container, script)).stdout.trim();
const apply = async (args: string[] = []) => {
  const r = await p.lab(["apply", "-y", "--json", ...args]);
  const report = JSON.parse(r.stdout) as JsonReport;
  expect(r.code, r.stderr + JSON.stringify(report.steps.filter((s) => s.status === "failed"))).toBe(0);
  return report;
};
const calls = async () =>
  (await on("cat /var/log/fake-systemctl.log 2>/dev/null")).split("\n").filter((l) => l && !l.startsWith("is-"));

beforeAll(async () => {
  lab = await startHosts({
    prefix: "lab-it-pg-sched",
    names: ["sched1"],
    subnet: "127.0.37",
    stateDir: ".lab/lab-it-pg-sched",
  });
  p = await makeProject(lab, { groups: {}, files: { "playbooks/site.ts": PLAYBOOK } });
}, 300_000);

afterAll(async () => {
  if (process.env.LAB_KEEP_HOSTS !== "1") await lab?.stop();
});

describe("scheduled jobs: cron without systemd, timers with it", () => {
  it("writes cron entries on a host without systemd; the second apply changes nothing", async () => {
    const first = await apply();
    expect(first.steps.filter((s) => s.status === "changed").map((s) => s.id)).toEqual([
      "scheduled-job:labit-job",
      "cron:labit-cron",
    ]);
    expect(await on("cat /etc/cron.d/labit-job")).toBe(
      "# lab test job (managed by lab)\nSHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n*/15 * * * * root echo ran >> /tmp/labit-job",
    );
    expect(await on("tail -n 1 /etc/cron.d/labit-cron")).toBe("0 3 * * * root date +\\%F > /tmp/labit-cron");
    expect(await on("stat -c '%a %U' /etc/cron.d/labit-job")).toBe("644 root");
    expect(changedCount(await apply())).toBe(0);
  });

  it("once the host runs systemd: service + timer, ONE daemon-reload per changed resource, the cron entry removed", async () => {
    await on(
      `mkdir -p /run/systemd/system /etc/systemd/system && cat > /usr/bin/systemctl <<'EOF'\n${FAKE_SYSTEMCTL}EOF\nchmod 755 /usr/bin/systemctl; rm -f /var/log/fake-systemctl.log`,
    );
    const r = await apply(["-e", "fake_systemd=yes"]);
    expect(r.steps.filter((s) => s.status === "changed").map((s) => s.id)).toEqual([
      "scheduled-job:labit-job",
      "systemd-unit:labit-standalone.service",
    ]);
    expect(await calls()).toEqual([
      "daemon-reload",
      "enable labit-job.timer",
      "start labit-job.timer",
      "daemon-reload",
      "enable labit-standalone.service",
      "start labit-standalone.service",
    ]);
    expect(await on("test -e /etc/cron.d/labit-job && echo present || echo gone")).toBe("gone");
    expect(await on("grep -E '^(OnCalendar|Persistent)=' /etc/systemd/system/labit-job.timer")).toBe(
      "OnCalendar=*-*-* *:0/15:00\nPersistent=true",
    );
    expect(await on("grep -E '^(User|ExecStart)=' /etc/systemd/system/labit-job.service")).toBe(
      'User=root\nExecStart=/bin/sh -c "echo ran >> /tmp/labit-job"',
    );

    await on("rm -f /var/log/fake-systemctl.log");
    expect(changedCount(await apply(["-e", "fake_systemd=yes"]))).toBe(0);
    expect(await calls()).toEqual([]); // no reload, no start: only is-enabled/is-active were asked
  });

  it("a changed schedule rewrites the timer, reloads once and restarts the timer", async () => {
    const r = await apply(["-e", "fake_systemd=yes", "-e", "schedule=30 2 * * 1-5"]);
    expect(r.steps.filter((s) => s.status === "changed").map((s) => s.id)).toEqual(["scheduled-job:labit-job"]);
    expect(await calls()).toEqual(["daemon-reload", "restart labit-job.timer"]);
    expect(await on("grep ^OnCalendar= /etc/systemd/system/labit-job.timer")).toBe("OnCalendar=Mon..Fri *-*-* 2:30:00");
    expect(changedCount(await apply(["-e", "fake_systemd=yes", "-e", "schedule=30 2 * * 1-5"]))).toBe(0);
  });
});
