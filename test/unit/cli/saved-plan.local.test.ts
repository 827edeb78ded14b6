// Saved plans, the apply gate and `--json` through the CLI entry with the local transport
// (on real SSH hosts: test/integration/saved-plan.test.ts).
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LAB } from "../helpers/project.ts";
import { validReport as valid } from "../helpers/report-schema.ts";
import { localProject, runMain } from "./helpers-main.ts";

const SITE = `import { definePlaybook, inline, file } from ${LAB};
export default definePlaybook({ name: "site", plays: [
  { name: "web", hosts: "all", roles: (h) => [inline([
    file({ path: String(h.vars.dir) + "/motd", content: "hi " + String(h.vars.who ?? "all") + "\\n" }),
    file({ path: String(h.vars.dir) + "/conf", content: "x\\n", mode: "0640" }),
  ])] },
] });
`;

describe("lab plan -o / lab apply FILE", () => {
  it("applies exactly the saved plan; refuses drift (exit 11) naming host and resource, changing nothing", async () => {
    const root = await localProject(SITE);
    const planFile = join(root, "plan.json");
    const plan = await runMain(["-C", root, "plan", "-o", planFile, "-l", "alpha", "-e", "who=ops"]);
    expect(plan.code, plan.stderr).toBe(0);
    const saved = JSON.parse(await readFile(planFile, "utf8")) as Record<string, unknown>;
    expect(saved).toMatchObject({
      format_version: 1,
      kind: "lab-plan",
      playbook: "playbooks/site.ts",
      selection: { limit: "alpha", extraVars: { who: "ops" } },
    });
    expect(Object.keys(saved.sources as object)).toEqual(["inventory/hosts.yaml", "playbooks/site.ts"]);

    // Drift: alpha's motd appears after the plan read it as absent.
    await writeFile(join(root, "alpha/motd"), "by hand\n");
    const refused = await runMain(["-C", root, "apply", planFile]);
    expect(refused.code).toBe(11);
    expect(refused.stderr).toContain("1 host(s) drifted since the plan was made (alpha); nothing was changed");
    expect(refused.stderr).toContain(
      `alpha: file:${root}/alpha/motd: its current state differs from what the plan read`,
    );
    expect(await readFile(join(root, "alpha/motd"), "utf8")).toBe("by hand\n");
    expect(existsSync(join(root, "alpha/conf"))).toBe(false);

    // The selection is the plan's: flags that would change it are refused.
    const flags = await runMain(["-C", root, "apply", planFile, "-l", "beta"]);
    expect(flags.code).toBe(2);
    expect(flags.stderr).toContain("--limit: a saved plan fixes the hosts, tags and vars it was made with");

    // Without drift: applied with the saved -e and --limit; beta is untouched.
    await writeFile(join(root, "alpha/motd"), "");
    await runMain(["-C", root, "plan", "-o", planFile, "-l", "alpha", "-e", "who=ops"]);
    const applied = await runMain(["-C", root, "apply", planFile]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(await readFile(join(root, "alpha/motd"), "utf8")).toBe("hi ops\n");
    expect(existsSync(join(root, "beta/motd"))).toBe(false);
    const again = await runMain(["-C", root, "plan", "--detailed-exitcode", "-l", "alpha", "-e", "who=ops"]);
    expect(again.code, again.stdout).toBe(0);
  });

  it("refuses a plan made from another version of the project (stale), and what is not a plan", async () => {
    const root = await localProject(SITE);
    const planFile = join(root, "plan.json");
    expect((await runMain(["-C", root, "plan", "-o", planFile])).code).toBe(0);
    await writeFile(join(root, "playbooks/site.ts"), `${SITE}// edited\n`);
    const stale = await runMain(["-C", root, "apply", planFile, "--json"]);
    expect(stale.code).toBe(11);
    expect(stale.stderr).toContain(
      "the saved plan is stale: made from another version of the project: playbooks/site.ts (changed)",
    );
    expect(valid(stale.stdout)).toMatchObject({ error: { code: 11, file: planFile } });
    expect(existsSync(join(root, "alpha/motd"))).toBe(false);

    const plan = JSON.parse(await readFile(planFile, "utf8")) as Record<string, unknown>;
    await writeFile(planFile, JSON.stringify({ ...plan, format_version: 99 }));
    const future = await runMain(["-C", root, "apply", planFile]);
    expect(future.code).toBe(2);
    expect(future.stderr).toContain("plan format_version 99 is not supported (this lab reads 1)");
  });

  it("keeps secrets out of the plan file: a Secret is a reference, its value nowhere", async () => {
    const root = await localProject(`import { definePlaybook, inline, file, Secret } from ${LAB};
export default definePlaybook({ name: "s", plays: [{ name: "p", hosts: "alpha", roles: (h) => [inline([
  file({ path: String(h.vars.dir) + "/token", content: new Secret("api_token", "s3cret-plan-value") }),
])] }] });
`);
    const planFile = join(root, "plan.json");
    const r = await runMain(["-C", root, "plan", "-o", planFile, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const text = await readFile(planFile, "utf8");
    expect(text).not.toContain("s3cret-plan-value");
    expect(text).toContain("(secret content)");
    // The JSON report: before/after of a secret change is the marker, never the value.
    const report = valid(r.stdout) as { steps: { changes: { key: string; after?: unknown }[] }[] };
    expect(r.stdout).not.toContain("s3cret-plan-value");
    expect(report.steps[0]?.changes.find((c) => c.key === "content")?.after).toBe("(sensitive)");
  });
});

describe("lab apply needs consent", () => {
  it("not on a terminal: exit 2 without -y or a plan file, with a message saying so; -y applies", async () => {
    const root = await localProject(SITE);
    const r = await runMain(["-C", root, "apply", "--json"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("lab apply is not on a terminal, so it cannot ask for confirmation: pass -y/--yes");
    expect(valid(r.stdout)).toMatchObject({ format_version: 1, error: { code: 2 } });
    expect(existsSync(join(root, "alpha/motd"))).toBe(false);
    // --check and --list-* change nothing: no consent needed.
    expect((await runMain(["-C", root, "apply", "--check"])).code).toBe(0);
    const yes = await runMain(["-C", root, "apply", "-y"]);
    expect(yes.code, yes.stderr).toBe(0);
    expect(existsSync(join(root, "alpha/motd"))).toBe(true);
  });
});

describe("--json (docs/schema/report.schema.json)", () => {
  it("plan, apply and a bad-input error all validate; changes carry before/after", async () => {
    const root = await localProject(SITE);
    const plan = valid((await runMain(["-C", root, "plan", "--json"])).stdout) as {
      mode: string;
      steps: { id: string; changes: { key: string; before?: unknown; after?: unknown }[] }[];
    };
    expect(plan.mode).toBe("plan");
    const conf = plan.steps.find((s) => s.id.endsWith("alpha/conf"))!;
    expect(conf.changes).toContainEqual(expect.objectContaining({ key: "content", before: null, after: "x\n" }));
    expect(conf.changes).toContainEqual(expect.objectContaining({ key: "mode", before: null, after: "0640" }));
    const apply = await runMain(["-C", root, "apply", "-y", "--json"]);
    expect(valid(apply.stdout)).toMatchObject({ format_version: 1, mode: "apply", exitCode: 0 });

    await writeFile(join(root, "inventory/hosts.yaml"), "hosts:\n  alpha: { vars: 3 }\n");
    const bad = await runMain(["-C", root, "plan", "--json"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("lab: error: ");
    const err = valid(bad.stdout) as { error: { file: string; line: number; column: number } };
    expect(err.error).toMatchObject({ code: 2, file: expect.stringContaining("hosts.yaml") as string, line: 2 });
    expect(err.error.column).toBeGreaterThan(1);
  });
});
