// What `lab schedule` installs: schedules from flags, the policy or defaults (one
// source of truth: cron fields, from which the timer's OnCalendar= and the next
// run are computed, checked against systemd's own parser where it is installed),
// and commands that run unattended (absolute paths, key file path, no secret).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { BackupPolicy, PgPolicy, VmPolicy } from "../../../src/backup/policy.ts";
import { LabError } from "../../../src/errors.ts";
import { onCalendar } from "../../../src/resources/scheduled-job.ts";
import { cronBlock, installedName } from "../../../src/schedule/backend.ts";
import { invocation, jobCommand, labBin } from "../../../src/schedule/invocation.ts";
import { DEFAULTS, nextRun, plannedJobs } from "../../../src/schedule/jobs.ts";

const pg = (name: string, extra: Partial<PgPolicy> = {}): PgPolicy => ({
  kind: "postgres",
  name,
  host: "db1",
  cluster: "15/main",
  stanza: name,
  rpoSec: 60,
  rtoSec: 7200,
  drillEverySec: 90 * 86_400,
  timezone: "UTC",
  schedule: { full: "0 1 * * 0" },
  acceptWalLoss: false,
  repositories: [{ name: "local", index: 1, path: "/p", user: "postgres", retention: { full: 2 } }],
  ...extra,
});
const vm: VmPolicy = {
  kind: "vm",
  name: "vms",
  vms: ["a"],
  selector: { vms: ["a"] },
  endpoint: "pve1",
  pbs: "pbs1",
  datastore: "d",
  storage: "s",
  schedule: "02:30",
  mode: "snapshot",
  retention: { last: 1 },
  rpoSec: 86_400,
  rtoSec: 1,
  drillEverySec: 1,
  timezone: "UTC",
};
const policy = (...targets: (PgPolicy | VmPolicy)[]): BackupPolicy => ({
  file: "p.yaml",
  postgres: targets.filter((t): t is PgPolicy => t.kind === "postgres"),
  vms: targets.filter((t): t is VmPolicy => t.kind === "vm"),
  targets,
  where: () => undefined,
});
const NOW = new Date("2026-12-01T12:00:00Z");
const short = (p: BackupPolicy, flags = {}) =>
  plannedJobs(p, flags, NOW).jobs.map((j) => `${j.name} | ${j.schedule} | lab ${j.args.join(" ")} | ${j.source}`);

describe("the jobs and their schedules", () => {
  it("defaults: nightly 02:30, weekly verify, quarterly drill (drill_every 90d)", () => {
    expect(short(policy(pg("db1-main"), vm))).toEqual([
      "lab-backup | 30 2 * * * | lab backup --run | default: nightly 02:30",
      "lab-backup-verify | 30 3 * * 0 | lab backup verify | default: weekly, Sunday 03:30",
      "lab-drill | 0 4 1 1,4,7,10 * | lab drill | policy: drill_every 90d of db1-main, quarterly",
    ]);
  });

  it("the policy's schedule.verify is the verify job's; different ones make one job per schedule naming its targets", () => {
    expect(short(policy(pg("a", { schedule: { full: "0 1 * * 0", verify: "0 5 * * 6" } })))[1]).toBe(
      "lab-backup-verify | 0 5 * * 6 | lab backup verify | policy: postgres.a.schedule.verify",
    );
    expect(
      short(policy(pg("a", { schedule: { full: "0 1 * * 0", verify: "0 5 * * 6" } }), pg("b"), vm)).slice(1, 3),
    ).toEqual([
      "lab-backup-verify-a | 0 5 * * 6 | lab backup verify a | policy: postgres.a.schedule.verify",
      "lab-backup-verify-b | 30 3 * * 0 | lab backup verify b vms | default: weekly, Sunday 03:30",
    ]);
  });

  it("the drill runs as often as the strictest drill_every needs, and says when a schedule cannot keep it", () => {
    const monthly = plannedJobs(policy(pg("a", { drillEverySec: 30 * 86_400 }), pg("b")), {}, NOW);
    expect(monthly.jobs[2]).toMatchObject({ schedule: "0 4 1 * *", source: "policy: drill_every 30d of a, monthly" });
    expect(monthly.notes).toEqual([
      "lab-drill: monthly runs leave up to 31d between drills, more than drill_every 30d of a: lab backup warns in the days before a drill (set drill_every: 92d, or pass --drill)",
    ]);
    expect(plannedJobs(policy(pg("a", { drillEverySec: 92 * 86_400 })), {}, NOW).notes).toEqual([]);
    expect(plannedJobs(policy(pg("a", { drillEverySec: 86_400 })), {}, NOW).jobs[2]!.schedule).toBe("0 4 * * *");
  });

  it("no PostgreSQL target: no drill job (a drill would fail), unless --drill asks for one", () => {
    const r = plannedJobs(policy(vm), {}, NOW);
    expect(r.jobs.map((j) => j.name)).toEqual(["lab-backup", "lab-backup-verify"]);
    expect(r.notes[0]).toContain("lab-drill: not installed: the policy has no PostgreSQL target");
    expect(short(policy(vm), { drill: "0 6 1 * *" })[2]).toBe("lab-drill | 0 6 1 * * | lab drill | --drill");
  });

  it("flags override the policy; a bad schedule is bad input (exit 2) naming the flag", () => {
    expect(short(policy(pg("a")), { backup: "0 */6 * * *", verify: "0 4 * * 1" }).slice(0, 2)).toEqual([
      "lab-backup | 0 */6 * * * | lab backup --run | --backup",
      "lab-backup-verify | 0 4 * * 1 | lab backup verify | --verify",
    ]);
    for (const bad of ["@daily", "61 * * * *", "0 2 * *", "0 2 * * 1-5/2"]) {
      const e = (() => {
        try {
          plannedJobs(policy(pg("a")), { backup: bad }, NOW);
        } catch (x) {
          return x;
        }
      })();
      expect(e, bad).toBeInstanceOf(LabError);
      expect((e as LabError).code).toBe(2);
      expect((e as LabError).message).toContain(JSON.stringify(bad));
    }
  });

  it("the next run is computed from the cron fields in local time", () => {
    expect(nextRun("30 2 * * *", new Date(2026, 11, 1, 12, 0))).toEqual(new Date(2026, 11, 2, 2, 30));
    expect(nextRun(DEFAULTS.drill, new Date(2026, 11, 1, 12, 0))).toEqual(new Date(2027, 0, 1, 4, 0));
  });

  const analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].find(existsSync);
  it.runIf(analyze)(
    "the timer's OnCalendar= fires when cron would: systemd-analyze's next elapses equal croner's",
    () => {
      for (const s of [DEFAULTS.backup, DEFAULTS.verify, DEFAULTS.drill, "0 4 1 * *", "*/15 1-3 * * 1-5"]) {
        const out = execFileSync(
          analyze!,
          ["calendar", "--iterations=3", `--base-time=@${Math.floor(NOW.getTime() / 1000)}`, onCalendar(s)],
          { encoding: "utf8", env: { ...process.env, TZ: "UTC" } },
        );
        const elapses = [...out.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\S+ \S+) UTC/g)].map((m) =>
          new Date(`${m[1]!.replace(" ", "T")}Z`).toISOString(),
        );
        const cron: string[] = [];
        let t = NOW;
        for (let i = 0; i < 3; i++) cron.push((t = nextRun(s, t, "UTC")!).toISOString());
        expect(elapses, s).toEqual(cron);
      }
    },
  );
});

describe("the command a job runs", () => {
  const { inv, warnings } = invocation({
    root: "/srv/my lab",
    inventory: "/srv/my lab/inventory",
    node: "/opt/node/bin/node",
    home: "/home/op",
    env: { LAB_AGE_KEY_FILE: "keys/age.key", LAB_SECRETS_FILE: "/srv/secrets.age" },
  });
  const job = plannedJobs(policy(pg("a")), {}, NOW).jobs[0]!;

  it("is absolute (node, lab entry, project, inventory) with the key file's path, never a key", () => {
    expect(warnings).toEqual([]);
    expect(jobCommand(inv, job)).toBe(
      `cd '/srv/my lab' && exec env HOME=/home/op PATH=/opt/node/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin 'LAB_AGE_KEY_FILE=/srv/my lab/keys/age.key' LAB_SECRETS_FILE=/srv/secrets.age /opt/node/bin/node ${labBin()} -C '/srv/my lab' -i '/srv/my lab/inventory' backup --run`,
    );
    expect(existsSync(labBin())).toBe(true);
    const secretOnly = invocation({
      root: "/r",
      inventory: "/r/i",
      home: "/h",
      env: { LAB_AGE_KEY: "AGE-SECRET-KEY-1QQQ" },
    });
    expect(JSON.stringify(secretOnly.inv)).not.toContain("AGE-SECRET-KEY");
    expect(secretOnly.warnings[0]).toContain("LAB_AGE_KEY is set, and a key is never written into a schedule");
  });

  it("in a crontab: one commented line per job, output to .lab/schedule/NAME.log, % escaped", () => {
    const pct = { ...job, args: ["backup", "--as-of", "50%"] };
    expect(cronBlock([pct], inv).split("\n")).toEqual([
      `# ${installedName(inv.root, job)}: lab backup --run: take what is due, check every target [default: nightly 02:30]`,
      `30 2 * * * ${jobCommand(inv, pct, { log: true }).replaceAll("%", "\\%")}`,
    ]);
    expect(jobCommand(inv, pct, { log: true })).toMatch(/ >>\.lab\/schedule\/lab-backup\.log 2>&1$/);
    // Named per project: two projects' entries (and units) on one host do not clash.
    expect(installedName("/a", job)).toMatch(/^lab-backup-[0-9a-f]{8}$/);
    expect(installedName("/a", job)).not.toBe(installedName("/b", job));
    expect(() => invocation({ root: "/a\nb", inventory: "/i" })).toThrow(/cannot hold a newline/);
  });
});

describe("a policy file given by hand", () => {
  it("is passed on to every job, before its subcommand", () => {
    const { jobs } = plannedJobs(policy(pg("a")), {}, NOW, "/srv/lab/other-policy.yaml");
    expect(jobs.map((j) => j.args.join(" "))).toEqual([
      "backup --policy /srv/lab/other-policy.yaml --run",
      "backup --policy /srv/lab/other-policy.yaml verify",
      "drill --policy /srv/lab/other-policy.yaml",
    ]);
  });
});
