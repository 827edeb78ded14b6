// `lab schedule` on a systemd control host: the unit files rendered into a
// directory of the test's, a fake systemctl that records every call and keeps
// enabled/active state as systemd reports it. Install twice (the second changes
// nothing), a stale unit of an earlier install removed, a foreign unit kept,
// then remove takes exactly lab's units away.
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scheduleCommand, type ScheduleOptions } from "../../../src/cli/schedule-command.ts";
import type { SystemdScope } from "../../../src/resources/systemd-unit.ts";
import { installedName } from "../../../src/schedule/backend.ts";
import { labBin } from "../../../src/schedule/invocation.ts";

let dir = "";
let root = "";
let scope: SystemdScope;
/** A job's unit name in this project (units are named per project). */
const u = (job: string) => installedName(root, { name: job });

const FAKE = `#!/bin/sh
d=$(dirname "$0")
echo "$*" >> "$d/calls"
[ "$1" = --user ] && shift
verb=$1; shift
[ "$1" = --quiet ] && shift
u=$1
touch "$d/enabled" "$d/active"
case $verb in
  is-enabled) grep -qx "$u" "$d/enabled" ;;
  is-active) grep -qx "$u" "$d/active" ;;
  enable) echo "$u" >> "$d/enabled" ;;
  start|restart) grep -qx "$u" "$d/active" || echo "$u" >> "$d/active" ;;
  disable) sed -i "/^$u\\$/d" "$d/enabled" ;;
  stop) sed -i "/^$u\\$/d" "$d/active" ;;
  daemon-reload) ;;
  *) echo "fake systemctl: $verb?" >&2; exit 1 ;;
esac
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lab-sched-"));
  root = join(dir, "project");
  await mkdir(join(root, "inventory"), { recursive: true });
  await mkdir(join(root, "backups"), { recursive: true });
  await writeFile(
    join(root, "inventory", "hosts.yaml"),
    "hosts:\n  db1: { address: 127.0.42.1 }\n  backup1: { address: 127.0.42.2 }\n",
  );
  await writeFile(
    join(root, "backups", "policy.yaml"),
    `defaults: { rpo: 60s, timezone: UTC }
postgres:
  db1-main:
    host: db1
    schedule: { full: "0 1 * * 0", verify: "15 5 * * 6" }
    repositories: { local: { repo: 1 }, offsite: { repo: 2, host: backup1 } }
`,
  );
  await mkdir(join(dir, "bin"));
  await writeFile(join(dir, "bin", "systemctl"), FAKE);
  await chmod(join(dir, "bin", "systemctl"), 0o755);
  scope = {
    dir: join(dir, "units"),
    systemctl: `${join(dir, "bin", "systemctl")} --user`,
    running: "true",
    user: true,
  };
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function schedule(
  action: "install" | "status" | "remove",
  extra: Partial<ScheduleOptions> = {},
): Promise<{ code: number; out: string; calls: string[] }> {
  let out = "";
  const sink = new Writable({
    write: (c: Buffer, _e, done) => {
      out += c.toString();
      done();
    },
  });
  await writeFile(join(dir, "bin", "calls"), "");
  const code = await scheduleCommand(action, {
    root,
    inventory: join(root, "inventory"),
    using: "systemd",
    user: true,
    json: true,
    flags: {},
    scope,
    stdout: sink,
    stderr: new Writable({ write: (_c, _e, done) => done() }),
    ...extra,
  });
  const calls = (await readFile(join(dir, "bin", "calls"), "utf8")).split("\n").filter(Boolean);
  return { code, out, calls };
}
const mutating = (calls: string[]) => calls.filter((c) => !/^--user is-(enabled|active) /.test(c));

describe("lab schedule with systemd (user manager)", { timeout: 60_000 }, () => {
  it("install writes a service and a timer per job, reloads once, enables and starts the timers", async () => {
    await mkdir(scope.dir, { recursive: true });
    // A unit of an earlier install that is no longer wanted, and one that is not lab's.
    await writeFile(
      join(scope.dir, "lab-old.timer"),
      `# Managed by lab (lab schedule ${root}).\n[Timer]\nOnCalendar=daily\n`,
    );
    await writeFile(join(scope.dir, "other.timer"), "[Timer]\nOnCalendar=daily\n");
    await writeFile(join(dir, "bin", "enabled"), "lab-old.timer\nother.timer\n");

    const r = await schedule("install");
    expect(r.code, r.out).toBe(0);
    const report = JSON.parse(r.out) as { changed: boolean; jobs: { name: string }[] };
    expect(report.changed).toBe(true);
    expect(report.jobs.map((j) => j.name)).toEqual(["lab-backup", "lab-backup-verify", "lab-drill"]);
    expect((await readdir(scope.dir)).sort()).toEqual(
      [
        `${u("lab-backup-verify")}.service`,
        `${u("lab-backup-verify")}.timer`,
        `${u("lab-backup")}.service`,
        `${u("lab-backup")}.timer`,
        `${u("lab-drill")}.service`,
        `${u("lab-drill")}.timer`,
        "other.timer",
      ].sort(),
    );
    expect(mutating(r.calls)).toEqual([
      "--user disable lab-old.timer",
      "--user daemon-reload",
      `--user enable ${u("lab-backup")}.timer`,
      `--user start ${u("lab-backup")}.timer`,
      `--user enable ${u("lab-backup-verify")}.timer`,
      `--user start ${u("lab-backup-verify")}.timer`,
      `--user enable ${u("lab-drill")}.timer`,
      `--user start ${u("lab-drill")}.timer`,
    ]);
    const timer = await readFile(join(scope.dir, `${u("lab-backup-verify")}.timer`), "utf8");
    expect(timer).toContain("OnCalendar=Sat *-*-* 5:15:00\nPersistent=true\n");
    const service = await readFile(join(scope.dir, `${u("lab-backup")}.service`), "utf8");
    expect(service).not.toContain("User=");
    expect(service).toContain(`ExecStart=/bin/sh -c "cd ${root} && exec env HOME=`);
    expect(service).toContain(`${process.execPath} ${labBin()} -C ${root} -i ${join(root, "inventory")} backup --run"`);
  });

  it("a second install changes nothing and says so; status is in sync", async () => {
    const r = await schedule("install", { json: false });
    expect(r.code).toBe(0);
    expect(r.out).toContain("nothing to change: the schedule is already installed (3 jobs, systemd user manager");
    expect(mutating(r.calls)).toEqual([]);
    const s = await schedule("status");
    const st = JSON.parse(s.out) as {
      in_sync: boolean;
      jobs: { name: string; installed: boolean; on_calendar: string; next_run: string; last_result: unknown }[];
    };
    expect(st.in_sync).toBe(true);
    expect(st.jobs.map((j) => [j.name, j.installed, j.on_calendar, j.last_result])).toEqual([
      ["lab-backup", true, "*-*-* 2:30:00", null],
      ["lab-backup-verify", true, "Sat *-*-* 5:15:00", null],
      ["lab-drill", true, "*-1,4,7,10-1 4:0:00", null],
    ]);
    expect(Date.parse(st.jobs[0]!.next_run)).toBeGreaterThan(Date.now());
  });

  it("a changed schedule rewrites only that timer and restarts it", async () => {
    const r = await schedule("install", { flags: { backup: "0 3 * * *" } });
    expect(mutating(r.calls)).toEqual(["--user daemon-reload", `--user restart ${u("lab-backup")}.timer`]);
    expect(await readFile(join(scope.dir, `${u("lab-backup")}.timer`), "utf8")).toContain("OnCalendar=*-*-* 3:0:00\n");
    const s = JSON.parse((await schedule("status")).out) as { in_sync: boolean };
    expect(s.in_sync).toBe(false); // the policy's default differs from what the flag installed
  });

  it("remove stops and disables lab's timers, removes its units, reloads; the foreign unit stays; again: nothing", async () => {
    const r = await schedule("remove");
    expect(r.code).toBe(0);
    expect(mutating(r.calls)).toEqual([
      `--user stop ${u("lab-backup")}.timer`,
      `--user disable ${u("lab-backup")}.timer`,
      `--user stop ${u("lab-backup-verify")}.timer`,
      `--user disable ${u("lab-backup-verify")}.timer`,
      `--user stop ${u("lab-drill")}.timer`,
      `--user disable ${u("lab-drill")}.timer`,
      "--user daemon-reload",
    ]);
    expect(await readdir(scope.dir)).toEqual(["other.timer"]);
    expect((await readFile(join(dir, "bin", "enabled"), "utf8")).trim()).toBe("other.timer");
    const again = await schedule("remove");
    expect(JSON.parse(again.out)).toMatchObject({ changed: false, ok: true });
    expect(mutating(again.calls)).toEqual([]);
  });

  it("bad input: --user with cron, a bad --drill: exit 2 before anything changes", async () => {
    await expect(schedule("install", { using: "cron", user: true })).rejects.toMatchObject({ code: 2 });
    await expect(schedule("install", { flags: { drill: "every quarter" } })).rejects.toMatchObject({ code: 2 });
    expect(await readdir(scope.dir)).toEqual(["other.timer"]);
  });
});

describe("lab schedule names units per project", { timeout: 60_000 }, () => {
  const marker = (r: string) => `# Managed by lab (lab schedule ${r}).`;
  const project2 = async () => {
    const root2 = join(dir, "project2");
    await mkdir(root2, { recursive: true });
    for (const f of ["inventory/hosts.yaml", "backups/policy.yaml"]) {
      await mkdir(join(root2, f, ".."), { recursive: true });
      await writeFile(join(root2, f), await readFile(join(root, f), "utf8"));
    }
    return { root: root2, inventory: join(root2, "inventory") };
  };

  it("an install of an earlier version (per-machine names) is found by status and replaced by install", async () => {
    await writeFile(join(scope.dir, "lab-backup.service"), `${marker(root)}\n[Service]\nExecStart=/bin/true\n`);
    await writeFile(join(scope.dir, "lab-backup.timer"), `${marker(root)}\n[Timer]\nOnCalendar=*-*-* 2:30:00\n`);
    await writeFile(join(dir, "bin", "enabled"), "lab-backup.timer\nother.timer\n");
    const st = JSON.parse((await schedule("status")).out) as {
      in_sync: boolean;
      jobs: { name: string; installed: boolean }[];
      not_wanted: string[];
    };
    expect(st.jobs.map((j) => [j.name, j.installed])).toEqual([
      ["lab-backup", true],
      ["lab-backup-verify", false],
      ["lab-drill", false],
    ]);
    expect(st.not_wanted).toEqual([]);
    expect(st.in_sync).toBe(false);
    const r = await schedule("install");
    expect(r.code, r.out).toBe(0);
    expect(mutating(r.calls).slice(0, 1)).toEqual(["--user disable lab-backup.timer"]);
    const files = await readdir(scope.dir);
    expect(files).not.toContain("lab-backup.timer");
    expect(files).not.toContain("lab-backup.service");
    expect(files).toContain(`${u("lab-backup")}.timer`);
    expect(mutating((await schedule("install")).calls)).toEqual([]);
  });

  it("a second project on the same host installs beside the first; removing it leaves the first's units", async () => {
    const other = await project2();
    const mine = (await readdir(scope.dir)).sort();
    const r = await schedule("install", other);
    expect(r.code, r.out).toBe(0);
    const theirs = ["lab-backup", "lab-backup-verify", "lab-drill"].flatMap((j) =>
      ["service", "timer"].map((ext) => `${installedName(other.root, { name: j })}.${ext}`),
    );
    expect(installedName(other.root, { name: "lab-backup" })).not.toBe(u("lab-backup"));
    expect((await readdir(scope.dir)).sort()).toEqual([...mine, ...theirs].sort());
    const st = JSON.parse((await schedule("status")).out) as { in_sync: boolean };
    expect(st.in_sync).toBe(true);
    expect((await schedule("remove", other)).code).toBe(0);
    expect((await readdir(scope.dir)).sort()).toEqual(mine);
    expect((await schedule("remove")).code).toBe(0);
    expect(await readdir(scope.dir)).toEqual(["other.timer"]);
  });
});
