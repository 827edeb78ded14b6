// SIGTERM during apply: the step in flight finishes, nothing new starts, the
// recap says what ran and what did not, exit 130; the next run converges.
// And one apply at a time: a second apply meets the lock (exit 5).
import { spawn } from "node:child_process";
import { beforeAll, expect, inject, it } from "vitest";
import type { TestLabData } from "../hosts/hosts.ts";
import { LAB_BIN, changedCount, inHost, makeProject, type JsonReport, type TestProject } from "./project.ts";

let lab: TestLabData;
let p: TestProject;
const web1 = () => lab.hosts.find((h) => h.name === "web1")!;

beforeAll(async () => {
  lab = inject("testLab");
  p = await makeProject(lab, {
    files: {
      "playbooks/slow.ts": `
import { definePlaybook, inline, directory, file, command } from "@lab";
export default definePlaybook({ name: "slow", plays: [{ name: "slow", hosts: "web1", roles: () => [inline([
  directory({ path: "/srv/intr" }),
  command({ command: "touch /srv/intr/started && sleep 3 && touch /srv/intr/done", creates: "/srv/intr/done" }),
  file({ path: "/srv/intr/after", content: "after\\n" }),
])] }] });
`,
    },
  });
  await inHost(web1().container, "rm -rf /srv/intr");
});

function startApply(args: string[]) {
  const child = spawn("node", [LAB_BIN, "-C", p.root, "apply", "-y", "playbooks/slow.ts", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}

async function waitFor(check: () => Promise<boolean>, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("condition not met in time");
}

const started = async () =>
  (await inHost(web1().container, "test -e /srv/intr/started && echo y")).stdout.trim() === "y";

it("finishes the step in flight on SIGTERM, runs nothing after it, and the next run converges", async () => {
  const run = startApply(["--json"]);
  await waitFor(started);
  run.child.kill("SIGTERM");
  const r = await run.done;
  expect(r.code).toBe(130);
  const report = JSON.parse(r.stdout) as JsonReport & { interrupted: boolean };
  expect(report.interrupted).toBe(true);
  const byId = Object.fromEntries(report.steps.map((s) => [s.id, s]));
  expect(byId["command:touch /srv/intr/started && sleep 3 && touch /srv/intr/done"]!.status).toBe("changed");
  expect(byId["file:/srv/intr/after"]).toMatchObject({ status: "skipped", reason: "not run: interrupted" });
  expect((await inHost(web1().container, "ls /srv/intr")).stdout.split("\n").filter(Boolean).sort()).toEqual([
    "done",
    "started",
  ]);

  const next = await p.applyJson(["playbooks/slow.ts"]);
  expect(next.run.code).toBe(0);
  expect(changedCount(next.report)).toBe(1);
  expect(changedCount((await p.applyJson(["playbooks/slow.ts"])).report)).toBe(0);
});

it("lets one apply run at a time: the second exits 5 naming the holder", async () => {
  await inHost(web1().container, "rm -rf /srv/intr");
  const first = startApply([]);
  await waitFor(started);
  const second = await p.lab(["apply", "-y", "playbooks/slow.ts"]);
  expect(second.code).toBe(5);
  expect(second.stderr).toMatch(/pid \d+/);
  expect(second.stderr).toContain("apply -y playbooks/slow.ts");
  expect(second.stderr).toContain("another lab run holds the lock");
  expect((await first.done).code).toBe(0);
  // The lock is released: a new apply runs (and changes nothing).
  const third = await p.applyJson(["playbooks/slow.ts"]);
  expect(third.run.code).toBe(0);
  expect(changedCount(third.report)).toBe(0);
});
