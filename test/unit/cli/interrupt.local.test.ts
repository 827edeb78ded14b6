// `lab apply` as a real process (bin/lab.mjs, the local transport: what a user
// applying to this machine runs) sent real signals: once winds down with the
// recap and the audit record; twice stops at once and still leaves both, naming
// the hosts that were mid-step; bad input beats a held lock; a stale lock's
// takeover warns about the dead run's hosts.
import { spawn } from "node:child_process";
import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readAudit } from "../../../src/engine/audit.ts";
import { lockFile } from "../../../src/engine/lock.ts";
import { LAB, makeProject } from "../helpers/project.ts";
import { validReport } from "../helpers/report-schema.ts";

const BIN = join(import.meta.dirname, "../../../bin/lab.mjs");
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

async function project(): Promise<string> {
  const root = await makeProject({
    "inventory/hosts.yaml": "connection:\n  type: local\nhosts:\n  alpha: {}\n  beta: {}\n",
    "playbooks/slow.ts": `
import { definePlaybook, inline, command, file } from ${LAB};
const dir = process.env.LAB_TEST_DIR!;
export default definePlaybook({ name: "slow", plays: [{ name: "slow", hosts: "all", roles: (h) => [inline([
  command({ command: \`touch \${dir}/\${h.name}.started && sleep 4 && touch \${dir}/\${h.name}.done\`, creates: \`\${dir}/\${h.name}.done\`, description: "slow step" }),
  file({ path: \`\${dir}/\${h.name}.after\`, content: "after\\n" }),
])] }] });
`,
    "playbooks/bad.ts": `
import { definePlaybook, inline, file } from ${LAB};
export default definePlaybook({ name: "bad", plays: [{ name: "bad", hosts: "all", roles: () => [inline([file({ path: "relative/path", content: "x" })])] }] });
`,
  });
  await mkdir(join(root, "out"));
  return root;
}

function apply(root: string, args: string[] = []) {
  const child = spawn(process.execPath, [BIN, "-C", root, "apply", "-y", "playbooks/slow.ts", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LAB_TEST_DIR: join(root, "out") },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>((resolve) => {
    const t0 = Date.now();
    child.on("close", (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 }));
  });
  return { child, done };
}

async function until(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

const bothStarted = (root: string) => async () =>
  (await exists(join(root, "out/alpha.started"))) && (await exists(join(root, "out/beta.started")));

describe("lab apply interrupted (a real process, the local transport)", () => {
  for (const sig of ["SIGHUP", "SIGINT", "SIGTERM"] as const) {
    it(`${sig} once: the steps in flight finish, nothing after them runs, recap + audit record, exit 130`, async () => {
      const root = await project();
      const run = apply(root);
      await until(bothStarted(root));
      run.child.kill(sig);
      const r = await run.done;
      expect(r.code, r.stderr).toBe(130);
      expect(r.stdout).toContain("INTERRUPTED");
      expect(r.stdout).toMatch(/alpha\s+: ok=0 changed=1 failed=0 unreachable=0 skipped=1/);
      expect(await exists(join(root, "out/alpha.done"))).toBe(true);
      expect(await exists(join(root, "out/alpha.after"))).toBe(false);
      const audit = await readAudit({ root });
      expect(audit.at(-1)).toMatchObject({ outcome: "interrupted", exitCode: 130, hosts: ["alpha", "beta"] });
      expect(await exists(lockFile(root))).toBe(false);
    }, 30_000);
  }

  for (const [first, second] of [
    ["SIGINT", "SIGINT"],
    ["SIGTERM", "SIGHUP"],
  ] as const) {
    it(`${first} then ${second}: stops at once, still writes the audit record and a recap naming the hosts mid-step, exit 130`, async () => {
      const root = await project();
      const run = apply(root);
      await until(bothStarted(root));
      run.child.kill(first);
      await new Promise((r) => setTimeout(r, 300));
      run.child.kill(second);
      const r = await run.done;
      expect(r.code, r.stderr).toBe(130);
      expect(await exists(join(root, "out/alpha.done"))).toBe(false); // it did not wait for the 4 s step
      expect(r.stdout).toContain("ABORTED (second signal)");
      expect(r.stdout).toContain("hosts mid-step: ");
      expect(r.stdout).toContain("alpha (command:slow step)");
      expect(r.stdout).toContain("beta (command:slow step)");
      const last = (await readAudit({ root })).at(-1)!;
      expect(last).toMatchObject({ outcome: "aborted", exitCode: 130, hosts: ["alpha", "beta"] });
      expect(last.inFlight?.map((f) => f.host).sort()).toEqual(["alpha", "beta"]);
      expect(await exists(lockFile(root))).toBe(false);
    }, 30_000);
  }

  it("--json and a double signal: stdout is still one JSON object saying aborted", async () => {
    const root = await project();
    const run = apply(root, ["--json"]);
    await until(bothStarted(root));
    run.child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 300));
    run.child.kill("SIGINT");
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(validReport(r.stdout)).toMatchObject({ format_version: 1, aborted: true, exitCode: 130 });
  }, 30_000);

  it("bad input while another run holds the lock exits 2 (validated before locking), and the good playbook meets the lock (5)", async () => {
    const root = await project();
    await mkdir(join(root, ".lab"), { recursive: true });
    // This test process is alive on this host: the lock is held, not stale.
    await writeFile(
      lockFile(root),
      JSON.stringify({
        pid: process.pid,
        host: hostname(),
        user: "t",
        command: "lab apply other",
        startedAt: new Date().toISOString(),
      }),
    );
    const bad = spawn(process.execPath, [BIN, "-C", root, "apply", "-y", "playbooks/bad.ts"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    bad.stderr.on("data", (d: Buffer) => (err += d.toString()));
    expect(await new Promise((r) => bad.on("close", r))).toBe(2);
    expect(err).toContain("relative/path");
    expect(err).not.toContain("holds the lock");
    const good = apply(root);
    expect((await good.done).code).toBe(5);
  }, 30_000);

  it("taking over a stale lock warns that the dead run's commands may still run on its hosts", async () => {
    const root = await project();
    await mkdir(join(root, ".lab"), { recursive: true });
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((r) => dead.on("exit", r));
    await writeFile(
      lockFile(root),
      JSON.stringify({
        pid: dead.pid,
        host: hostname(),
        user: "t",
        command: "lab apply old.ts",
        startedAt: new Date().toISOString(),
        hosts: ["alpha", "web9"],
      }),
    );
    const r = await apply(root).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /took over a stale lab lock of dead pid \d+ \(lab apply old\.ts.*remote commands may still be running on alpha, web9/,
    );
    expect(
      JSON.parse(await readFile(join(root, ".lab/audit.jsonl"), "utf8").then((t) => t.trim().split("\n").at(-1)!)),
    ).toMatchObject({ outcome: "changed" });
  }, 30_000);
});
