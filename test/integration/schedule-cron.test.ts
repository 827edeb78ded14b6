// `lab schedule` on a control host without systemd (this machine): the real
// `crontab` of a throwaway user (lab-it-sched), never root's. Install twice (the
// second changes nothing), the user's own lines untouched, a job's line run the
// way cron runs it (empty environment) so status shows its real last result,
// then remove leaves the crontab exactly as the user had it.
import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LAB_BIN } from "./project.ts";

const USER = "lab-it-sched";
const run = promisify(execFile);
let dir = "";
let home = "";
let root = "";

/** A command as the test user, with a login-like environment (what a person who installs the schedule has). */
async function asUser(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(
      "runuser",
      [
        "-u",
        USER,
        "--",
        "env",
        "-i",
        `HOME=${home}`,
        `PATH=${process.env.PATH ?? "/usr/bin:/bin"}`,
        `USER=${USER}`,
        ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
        ...args,
      ],
      { cwd: "/", timeout: 120_000 },
    );
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === "number" ? x.code : 1, stdout: x.stdout ?? "", stderr: x.stderr ?? "" };
  }
}
const lab = (...args: string[]) => asUser([process.execPath, LAB_BIN, "-C", root, ...args]);
const crontabText = async () => (await asUser(["crontab", "-l"])).stdout;

const MINE = 'MAILTO=""\n# my own job, not lab\'s\n17 * * * * /usr/bin/true %not lab%\n';

beforeAll(async () => {
  await run("userdel", ["-r", USER]).catch(() => undefined);
  dir = await mkdtemp(join(tmpdir(), "lab-it-sched-"));
  await chmod(dir, 0o755);
  home = join(dir, "home");
  root = join(dir, "project with space");
  await run("useradd", ["-M", "-d", home, "-s", "/bin/sh", USER]);
  await mkdir(join(root, "inventory"), { recursive: true });
  await mkdir(join(root, "backups"), { recursive: true });
  await mkdir(home);
  await writeFile(join(root, "package.json"), JSON.stringify({ type: "module", private: true }));
  // Hosts on the test's own loopback addresses: nothing listens there, so the nightly check finds them unreachable.
  await writeFile(
    join(root, "inventory", "hosts.yaml"),
    "hosts:\n  db1: { address: 127.0.42.1 }\n  backup1: { address: 127.0.42.2 }\n",
  );
  await writeFile(
    join(root, "backups", "policy.yaml"),
    `defaults: { rpo: 60s, drill_every: 92d, timezone: UTC }
postgres:
  db1-main:
    host: db1
    schedule: { full: "0 1 * * 0", diff: "0 1 * * 1-6", verify: "15 5 * * 6" }
    repositories: { local: { repo: 1 }, offsite: { repo: 2, host: backup1 } }
`,
  );
  await run("chown", ["-R", `${USER}:`, home, root]);
  await asUser(["crontab", "-r"]);
  expect((await lab("secrets", "init")).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await asUser(["crontab", "-r"]).catch(() => undefined);
  await run("userdel", ["-r", USER]).catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("lab schedule with cron (the user's crontab)", () => {
  it("install adds one marked block after the user's own lines; a second install changes nothing", async () => {
    const seed = await run("sh", ["-c", `printf '%s' "$1" | runuser -u ${USER} -- crontab -`, "sh", MINE]);
    expect(seed.stderr).toBe("");
    expect(await crontabText()).toBe(MINE);

    const first = await lab("schedule", "install");
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`changed  crontab:lab schedule ${root}: add a block to the crontab of ${USER}`);
    expect(first.stdout).toContain("installed 3 jobs (crontab of lab-it-sched); a second install changes nothing");
    const text = await crontabText();
    expect(text.startsWith(MINE)).toBe(true);
    const block = text.slice(MINE.length).split("\n");
    expect(block[0]).toBe(`# BEGIN lab schedule ${root}`);
    expect(block.filter((l) => /^\d/.test(l)).map((l) => l.split(" ").slice(0, 5).join(" "))).toEqual([
      "30 2 * * *",
      "15 5 * * 6",
      "0 4 1 1,4,7,10 *",
    ]);
    expect(text).toContain(`LAB_AGE_KEY_FILE=${home}/.config/lab/age.key`);
    expect(text).toContain(
      `${process.execPath} ${LAB_BIN} -C '${root}' -i '${root}/inventory' backup --run >>.lab/schedule/lab-backup.log 2>&1`,
    );

    const again = await lab("schedule", "install");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(
      "nothing to change: the schedule is already installed (3 jobs, crontab of lab-it-sched)",
    );
    expect(again.stdout).not.toContain("changed ");
    expect(await crontabText()).toBe(text);
  });

  it("the nightly line runs unattended as cron runs it, and status shows its real last result", async () => {
    const before = await lab("schedule", "status", "--json");
    expect(before.code, before.stderr).toBe(0);
    expect((JSON.parse(before.stdout) as { jobs: { last_result: unknown }[] }).jobs[0]!.last_result).toBeNull();

    const line = (await crontabText()).split("\n").find((l) => l.startsWith("30 2 * * * "))!;
    // cron: the command after the five fields, % unescaped, through /bin/sh, with cron's own few variables.
    const command = line.split(" ").slice(5).join(" ").replaceAll("\\%", "%");
    const job = await run(
      "runuser",
      [
        "-u",
        USER,
        "--",
        "env",
        "-i",
        `HOME=${home}`,
        `LOGNAME=${USER}`,
        "SHELL=/bin/sh",
        "PATH=/usr/bin:/bin",
        "/bin/sh",
        "-c",
        command,
      ],
      { cwd: "/" },
    ).then(
      () => 0,
      (e: { code: number }) => e.code,
    );
    expect(job).toBe(6); // lab backup: db1 is unreachable, a breach (exit 6)
    const log = await readFile(join(root, ".lab", "schedule", "lab-backup.log"), "utf8");
    expect(log).toContain("BREACH");
    expect(log).not.toMatch(/passphrase|prompt/i);

    const s = await lab("schedule", "status", "--json");
    const st = JSON.parse(s.stdout) as {
      backend: string;
      in_sync: boolean;
      jobs: {
        name: string;
        installed: boolean;
        next_run: string;
        last_result: { ok: boolean; summary: string; from: string } | null;
      }[];
    };
    expect(st.backend).toBe(`crontab of ${USER}`);
    expect(st.in_sync).toBe(true);
    expect(st.jobs.map((j) => [j.name, j.installed])).toEqual([
      ["lab-backup", true],
      ["lab-backup-verify", true],
      ["lab-drill", true],
    ]);
    expect(st.jobs[0]!.last_result).toMatchObject({ ok: false, from: join(root, ".lab", "backup", "status.json") });
    expect(st.jobs[0]!.last_result!.summary).toContain("db1-main: cannot check: db1 unreachable");
    expect(st.jobs[1]!.last_result).toBeNull();
    expect(Date.parse(st.jobs[0]!.next_run)).toBeGreaterThan(Date.now());

    const table = await lab("schedule", "status");
    expect(table.stdout).toMatch(
      /^lab-backup\s+30 2 \* \* \*\s+\d{4}-\d\d-\d\d 02:30 \S+ \(in [\dhms]+\)\s+\d{4}-\d\d-\d\d \d\d:\d\d \S+\s+FAILED\s+yes$/m,
    );
    expect(table.stdout).toContain("installed and up to date");
  });

  it("remove leaves exactly the user's own lines; a second remove has nothing to do", async () => {
    const r = await lab("schedule", "remove");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`removed this project's jobs from the crontab of ${USER}`);
    expect(await crontabText()).toBe(MINE);
    const again = await lab("schedule", "remove");
    expect(again.stdout).toContain("nothing to remove");
    expect(await crontabText()).toBe(MINE);
  });

  it("a user without a crontab: install, then remove leaves no crontab at all", async () => {
    await asUser(["crontab", "-r"]);
    expect((await asUser(["crontab", "-l"])).stderr).toContain(`no crontab for ${USER}`);
    expect((await lab("schedule", "install")).code).toBe(0);
    expect((await lab("schedule", "remove")).code).toBe(0);
    const after = await asUser(["crontab", "-l"]);
    expect(after.code).not.toBe(0);
    expect(after.stderr).toContain(`no crontab for ${USER}`);
  });
});
