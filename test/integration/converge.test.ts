// Every core resource against REAL sshd hosts: apply converges, the second apply
// changes nothing, and a plan afterwards shows no changes.
import { beforeAll, describe, expect, inject, it } from "vitest";
import type { TestLabData } from "../hosts/hosts.ts";
import { changedCount, inHost, makeProject, type TestProject } from "./project.ts";

const SITE = `
import { Type, definePlaybook, defineRole, directory, file, line, block, user, group, service, restartService, command, packages, sh } from "@lab";

const base = defineRole({
  name: "base",
  vars: Type.Object({ motd: Type.String(), admins: Type.Array(Type.String()) }, { additionalProperties: false }),
  resources: (v, host, lab) => ({
    resources: [
      packages({ names: ["cron", "procps"] }),
      directory({ path: "/etc/lab", mode: "0750" }),
      file({ path: "/etc/lab/motd", content: lab.template("motd.njk", { motd: v.motd, host: host.name, groups: host.groups }), mode: "0644" }),
      group({ name: "labadmins", gid: 2001 }),
      ...v.admins.map((a) => user({ name: a, shell: "/bin/sh", groups: ["labadmins"] })),
      line({ path: "/etc/lab/settings.conf", line: "mode=managed", regexp: "^mode=", create: true }),
      block({ path: "/etc/lab/settings.conf", block: "a=1\\nb=2" }),
      file({ path: "/etc/cron.d/lab-heartbeat", content: "*/5 * * * * root date > /tmp/heartbeat\\n", mode: "0644" }, { notify: ["restart cron"] }),
      service({ name: "cron", state: "started", enabled: true }),
      command({ command: sh\`echo built > /etc/lab/built\`, creates: "/etc/lab/built" }),
    ],
    handlers: [restartService("cron")],
  }),
});

export default definePlaybook({
  name: "site",
  plays: [{ name: "base", hosts: "all", roles: (h) => [base({ motd: String(h.vars.motd), admins: ["alice", "bob"] })] }],
});
`;

describe("core resources over real SSH", () => {
  let lab: TestLabData;
  let p: TestProject;
  beforeAll(async () => {
    lab = inject("testLab");
    p = await makeProject(lab, {
      vars: { motd: "welcome" },
      groups: { web: { hosts: ["web1", "web2"], vars: { motd: "web tier" } }, db: { hosts: ["db1"] } },
      files: {
        "playbooks/site.ts": SITE,
        "templates/motd.njk": "{{ motd }} on {{ host }} ({{ groups | join(',') }})\n",
      },
    });
    // Start from a known state: a previous run may have left these behind.
    await Promise.all(
      lab.hosts.map((h) =>
        inHost(
          h.container,
          "rm -rf /etc/lab /etc/cron.d/lab-heartbeat; userdel alice; userdel bob; groupdel labadmins; /etc/init.d/cron stop; update-rc.d cron disable; true",
        ),
      ),
    );
  });

  it("plans, applies, then changes nothing on the second apply", async () => {
    const plan = await p.lab(["plan"]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain("+web tier on web1 (all,web)");
    expect(
      (await inHost(lab.hosts[0]!.container, "test -e /etc/lab && echo present || echo absent")).stdout.trim(),
    ).toBe("absent");

    const first = await p.applyJson();
    expect(first.run.code, first.run.stderr + first.run.stdout).toBe(0);
    expect(changedCount(first.report)).toBeGreaterThan(0);
    for (const h of Object.values(first.report.hosts)) expect(h.failed).toBe(0);
    // The handler ran once per host, after the steps that notified it.
    const handlers = first.report.steps.filter((s) => s.id === "handler:restart cron");
    expect(handlers.map((s) => s.host).sort()).toEqual(["db1", "web1", "web2"]);

    const second = await p.applyJson();
    expect(second.run.code).toBe(0);
    expect(
      changedCount(second.report),
      JSON.stringify(
        second.report.steps.filter((s) => s.status !== "ok"),
        null,
        1,
      ),
    ).toBe(0);
    expect(second.report.steps.some((s) => s.id.startsWith("handler:"))).toBe(false);
    // No-op runs cost one fact round trip per host.
    for (const h of Object.values(second.report.hosts)) expect(h.roundTrips).toBe(1);

    const after = await p.lab(["plan", "--detailed-exitcode"]);
    expect(after.code, after.stdout).toBe(0);
  });

  it("left the hosts as the playbook says (checked without lab)", async () => {
    const web1 = lab.hosts.find((h) => h.name === "web1")!;
    const db1 = lab.hosts.find((h) => h.name === "db1")!;
    expect((await inHost(web1.container, "cat /etc/lab/motd")).stdout).toBe("web tier on web1 (all,web)\n");
    expect((await inHost(db1.container, "cat /etc/lab/motd")).stdout).toBe("welcome on db1 (all,db)\n");
    expect((await inHost(web1.container, "stat -c '%a %U' /etc/lab /etc/lab/motd")).stdout).toBe(
      "750 root\n644 root\n",
    );
    expect((await inHost(web1.container, "cat /etc/lab/settings.conf")).stdout).toBe(
      "mode=managed\n# BEGIN MANAGED BY lab\na=1\nb=2\n# END MANAGED BY lab\n",
    );
    expect((await inHost(web1.container, "id -Gn alice")).stdout.trim()).toBe("alice labadmins");
    expect((await inHost(web1.container, "/etc/init.d/cron status >/dev/null && echo running")).stdout.trim()).toBe(
      "running",
    );
    expect((await inHost(web1.container, "ls /etc/rc2.d/ | grep -c cron")).stdout.trim()).toBe("1");
  });

  it("repairs drift and shows it as a diff", async () => {
    const web2 = lab.hosts.find((h) => h.name === "web2")!;
    await inHost(
      web2.container,
      "echo tampered > /etc/lab/motd; chmod 600 /etc/lab/motd; sed -i 's/^mode=.*/mode=manual/' /etc/lab/settings.conf",
    );
    const plan = await p.lab(["plan", "--limit", "web2"]);
    expect(plan.stdout).toContain("-tampered");
    expect(plan.stdout).toContain("mode 0600 -> 0644");
    expect(plan.stdout).toContain("-mode=manual");
    const fix = await p.applyJson(["--limit", "web2"]);
    expect(fix.run.code).toBe(0);
    expect(Object.keys(fix.report.hosts)).toEqual(["web2"]);
    expect(fix.report.hosts.web2!.changed).toBe(2);
    const again = await p.applyJson(["--limit", "web2"]);
    expect(changedCount(again.report)).toBe(0);
  });

  it("selects steps with --tags and --skip-tags", async () => {
    const web1 = lab.hosts.find((h) => h.name === "web1")!;
    await inHost(web1.container, "rm -f /etc/lab/motd /etc/lab/built");
    const tagged = await p.applyJson(["--limit", "web1", "--skip-tags", "base"]);
    expect(tagged.report.steps).toHaveLength(0);
    expect((await inHost(web1.container, "test -e /etc/lab/motd && echo yes || echo no")).stdout.trim()).toBe("no");
    const all = await p.applyJson(["--limit", "web1", "--tags", "base"]);
    expect(all.report.hosts.web1!.changed).toBe(2);
  });
});
