// --list-hosts/--list-tags/--list-tasks, `lab exec` and `lab facts` through the CLI
// entry with the local transport (the same commands over real SSH hosts:
// test/integration/everyday.test.ts).
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { localProject, runMain } from "./helpers-main.ts";

describe("plan/apply --list-*", () => {
  it("--list-hosts per play, after --limit; nothing is changed", async () => {
    const root = await localProject();
    const r = await runMain(["-C", root, "apply", "--list-hosts"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      `playbook: ${join(root, "playbooks/site.ts")}\n\n  play #1 (web): 1 host(s)\n    alpha\n\n  play #2 (db): 1 host(s)\n    beta\n`,
    );
    expect(existsSync(join(root, "alpha/motd"))).toBe(false);
    const limited = await runMain(["-C", root, "plan", "--list-hosts", "-l", "db"]);
    expect(limited.stdout).toContain("play #1 (web): 0 host(s)\n\n  play #2 (db): 1 host(s)\n    beta\n");
  });

  it("--list-tags and --list-tasks, after --tags", async () => {
    const root = await localProject();
    const tags = await runMain(["-C", root, "plan", "--list-tags"]);
    expect(tags.stdout).toContain("play #1 (web): 1 host(s)\n    TAGS: [motd, webtier]\n");
    const tasks = await runMain(["-C", root, "plan", "--list-tasks", "--tags", "motd"]);
    expect(tasks.code, tasks.stderr).toBe(0);
    expect(tasks.stdout).toContain(`    alpha:\n      inline : file:${root}/alpha/motd\tTAGS: [webtier, motd]\n`);
    expect(tasks.stdout).not.toContain("/pg");
    expect((await runMain(["-C", root, "plan", "--list-tasks", "--list-hosts"])).code).toBe(2);
  });
});

describe("lab exec (local transport)", () => {
  it("runs on every matched host, prints each host's output and exit code, records an audit line", async () => {
    const root = await localProject();
    const r = await runMain([
      "-C",
      root,
      "exec",
      "all",
      "--",
      "sh",
      "-c",
      `echo "on $(basename "$PWD")"; test -f ${root}/alpha/.keep`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^alpha \| rc=0 \| \d+\.\d\ds >>\non /m);
    expect(r.stdout).toMatch(/^beta \| rc=0 \| /m);
    expect(r.stdout).toContain("2 ok, 0 failed, 0 unreachable\n");
    const audit = (await readFile(join(root, ".lab/audit.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit.at(-1)).toMatchObject({
      playbook: "(exec)",
      hosts: ["alpha", "beta"],
      limit: "all",
      outcome: "ok",
      exitCode: 0,
    });
  });

  it("a host whose command fails: its rc, exit 3; one word is a shell line", async () => {
    const root = await localProject();
    const r = await runMain(["-C", root, "exec", "db", "--", "echo out; echo err >&2; exit 7"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^beta \| rc=7 \| \d+\.\d\ds >>\nout\nerr\n/m);
    expect(r.stdout).toContain("0 ok, 1 failed, 0 unreachable\n");
  });

  it("arguments are quoted: a $(...) in an argument is data, not a command", async () => {
    const root = await localProject();
    const r = await runMain(["-C", root, "exec", "alpha", "--", "echo", `$(touch ${root}/pwned)`, "a b"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`$(touch ${root}/pwned) a b\n`);
    expect(existsSync(join(root, "pwned"))).toBe(false);
  });

  it("an unknown pattern is exit 2 listing groups and hosts", async () => {
    const root = await localProject();
    const r = await runMain(["-C", root, "exec", "gamma", "--", "true"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("known groups: web, db, all; known hosts: alpha, beta");
  });
});

describe("lab facts (local transport)", () => {
  it("the named facts as JSON; an unknown fact is exit 2 listing them", async () => {
    const root = await localProject();
    const r = await runMain(["-C", root, "facts", "alpha", "kernel", "cpus", "os"]);
    expect(r.code, r.stderr).toBe(0);
    const f = JSON.parse(r.stdout) as { kernel: string; cpus: number; os: { id: string } };
    expect(Object.keys(f)).toEqual(["kernel", "cpus", "os"]);
    expect(f.kernel).toBe((await import("node:os")).release());
    expect(f.cpus).toBeGreaterThan(0);
    expect(f.os.id).toBe("debian");
    const bad = await runMain(["-C", root, "facts", "alpha", "kernal"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown fact kernal");
    expect(bad.stderr).toContain("known facts: hostname, os, kernel");
  });
});
