// Saved plans on real hosts (docs/adr/0022-saved-plans.md): `lab plan -o FILE`, a change
// made behind lab's back on one host, `lab apply FILE` refused before anything is touched
// (exit 11, host and resource named, neither host changed); a fresh plan applied as saved,
// then the next plan shows 0 changes and a second apply changes nothing.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { labData, startHosts, type TestLab } from "../hosts/hosts.ts";
import { changedCount, inHost, makeProject, type JsonReport, type TestProject } from "./project.ts";

const SITE = `
import { definePlaybook, inline, file, directory } from "@lab";
export default definePlaybook({ name: "site", plays: [{ name: "motd", hosts: "all", roles: (h) => [inline([
  directory({ path: "/etc/lab-plan", mode: "0755" }),
  file({ path: "/etc/lab-plan/motd", content: "welcome to " + h.name + "\\n", mode: "0644" }),
  file({ path: "/etc/lab-plan/policy", content: "v=" + String(h.vars.v) + "\\n", mode: "0600" }),
])] }] });
`;

let lab: TestLab;
let p: TestProject;
const container = (name: string) => lab.hosts.find((h) => h.name === name)!.container;
const state = (name: string) =>
  inHost(container(name), "cat /etc/lab-plan/* 2>/dev/null; stat -c %a /etc/lab-plan/* 2>/dev/null");

beforeAll(async () => {
  lab = await startHosts({
    prefix: "lab-plans",
    names: ["plan1", "plan2"],
    subnet: "127.0.50",
    stateDir: ".lab/it-plans",
  });
  p = await makeProject(labData(lab), {
    groups: { planned: { hosts: ["plan1", "plan2"] } },
    vars: { v: 1 },
    files: { "playbooks/site.ts": SITE },
  });
}, 180_000);
afterAll(async () => {
  await lab?.stop();
});

it(
  "refuses a saved plan after a host drifted, changing nothing; applies a fresh one exactly",
  { timeout: 300_000 },
  async () => {
    const planFile = join(p.root, "site.plan.json");
    // The hosts start half converged: plan1 already has the directory and an old motd.
    expect((await inHost(container("plan1"), "mkdir -p /etc/lab-plan && echo old > /etc/lab-plan/motd")).code).toBe(0);
    const plan = await p.lab(["plan", "-o", planFile, "--json"]);
    expect(plan.code, plan.stderr).toBe(0);
    const saved = JSON.parse(await readFile(planFile, "utf8")) as {
      format_version: number;
      steps: { host: string; id: string; read?: string; changes: unknown[] }[];
    };
    expect(saved.format_version).toBe(1);
    expect(saved.steps.filter((s) => s.changes.length > 0)).toHaveLength(5); // plan1: motd, policy; plan2: dir, motd, policy
    expect(saved.steps.every((s) => s.read?.startsWith("sha256:"))).toBe(true);

    // Behind lab's back: plan1's motd changes after the plan read it.
    expect((await inHost(container("plan1"), "echo edited-by-hand > /etc/lab-plan/motd")).code).toBe(0);
    const before = [await state("plan1"), await state("plan2")];
    const refused = await p.lab(["apply", planFile]);
    expect(refused.code, refused.stderr).toBe(11);
    expect(refused.stderr).toContain("1 host(s) drifted since the plan was made (plan1)");
    expect(refused.stderr).toContain(
      "plan1: file:/etc/lab-plan/motd: its current state differs from what the plan read",
    );
    // Nothing on any host was touched, not even on plan2 which did not drift.
    expect([await state("plan1"), await state("plan2")]).toEqual(before);
    expect((await inHost(container("plan2"), "test -e /etc/lab-plan")).code).not.toBe(0);

    // The project changed since a plan was made: refused as stale, before any host is contacted.
    const fresh = await p.lab(["plan", "-o", planFile]);
    expect(fresh.code, fresh.stderr).toBe(0);
    const inventory = join(p.root, "inventory/hosts.yaml");
    const inv = await readFile(inventory, "utf8");
    await writeFile(inventory, inv.replace("v: 1", "v: 2"));
    const stale = await p.lab(["apply", planFile]);
    expect(stale.code, stale.stderr).toBe(11);
    expect(stale.stderr).toContain(
      "the saved plan is stale: made from another version of the project: inventory/hosts.yaml (changed)",
    );
    await writeFile(inventory, inv);

    // No drift: applied as saved; the next plan shows 0 changes.
    const applied = await p.lab(["apply", planFile, "--json"]);
    expect(applied.code, applied.stderr).toBe(0);
    const report = JSON.parse(applied.stdout) as JsonReport & { format_version: number };
    expect(report.format_version).toBe(1);
    expect(changedCount(report)).toBe(5);
    expect((await inHost(container("plan1"), "cat /etc/lab-plan/motd")).stdout).toBe("welcome to plan1\n");
    expect((await inHost(container("plan2"), "stat -c %a /etc/lab-plan/policy")).stdout).toBe("600\n");
    const after = await p.lab(["plan", "--detailed-exitcode"]);
    expect(after.code, after.stdout).toBe(0);
    expect(after.stdout).toContain("0 change(s) planned");
    // A saved plan is used once: applied again, what it read is gone, so it is refused.
    expect((await p.lab(["apply", planFile])).code).toBe(11);
    // Applied twice: the second apply changes nothing.
    const again = await p.applyJson();
    expect(again.run.code, again.run.stderr).toBe(0);
    expect(changedCount(again.report)).toBe(0);
  },
);
