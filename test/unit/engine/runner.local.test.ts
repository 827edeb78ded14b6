// The engine end to end on this machine: run() with the LOCAL transport against
// a temp directory, a real inventory file and a real playbook file.
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LabError } from "../../../src/errors.ts";
import { LAB, makeProject, runLab, snapshot, writeProjectFiles } from "../helpers/project.ts";

const inventory = (root: string, extra = "") => `connection:
  type: local
hosts:
  alpha:
    vars:
      dir: ${root}/target/alpha
  beta:
    vars:
      dir: ${root}/target/beta
${extra}groups:
  web:
    hosts: [alpha]
  db:
    hosts: [beta]
`;

/** A role with one resource of each file-ish kind; two of them notify the same handler. */
const APP_ROLE = `
import { Type, block, command, defineRole, directory, file, line, sh, type Handler } from ${LAB};

const reload = (dir: string): Handler => ({
  id: "reload app",
  summary: "reload app",
  async run(ctx) {
    const r = await ctx.transport.exec(sh\`echo reloaded >> \${dir + "/handler.log"}\`);
    if (r.code !== 0) throw new Error(r.stderr);
  },
});

export const app = defineRole({
  name: "app",
  vars: Type.Object({ dir: Type.String(), greeting: Type.String() }, { additionalProperties: false }),
  resources: (v) => ({
    resources: [
      directory({ path: v.dir + "/etc", mode: "0750" }),
      file({ path: v.dir + "/etc/app.conf", content: "greeting=" + v.greeting + "\\n", mode: "0640" }, { notify: ["reload app"], tags: ["config"] }),
      line({ path: v.dir + "/etc/hosts", line: "10.0.0.5 db", create: true }, { notify: ["reload app"], tags: ["config"] }),
      block({ path: v.dir + "/etc/fstab", block: "nas:/x /mnt nfs defaults 0 0", create: true }),
      command({ command: sh\`touch \${v.dir + "/etc/initialized"}\`, creates: v.dir + "/etc/initialized" }, { tags: ["init"] }),
    ],
    handlers: [reload(v.dir)],
  }),
});
`;

const SITE = `
import { definePlaybook } from ${LAB};
import { app } from "../roles/app.ts";

export default definePlaybook({
  name: "site",
  plays: [{ name: "apps", hosts: "all", roles: (host) => [app({ dir: String(host.vars.dir), greeting: String(host.vars.greeting ?? "hello") })] }],
});
`;

async function appProject(site = SITE, invExtra = ""): Promise<string> {
  const root = await makeProject({ "roles/app.ts": APP_ROLE, "playbooks/site.ts": site });
  await writeProjectFiles(root, { "inventory/hosts.yaml": inventory(root, invExtra), "target/.keep": "" });
  return root;
}

const ids = ["directory", "file", "line", "block", "command"];
const stepIds = (root: string, host: string) => [
  `directory:${root}/target/${host}/etc`,
  `file:${root}/target/${host}/etc/app.conf`,
  `line:${root}/target/${host}/etc/hosts:10.0.0.5 db`,
  `block:${root}/target/${host}/etc/fstab:lab`,
  `command:touch ${root}/target/${host}/etc/initialized`,
];

const rejected = async (p: Promise<unknown>): Promise<LabError> => {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof LabError)) throw new Error(`expected a LabError, got ${String(e)}`);
  return e;
};

describe("apply with the local transport", () => {
  it("converges, and a second run reports 0 changed", async () => {
    const root = await appProject();
    const first = await runLab(root);
    expect(first.result.exitCode).toBe(0);
    expect(first.result.hosts.alpha).toMatchObject({ changed: 6, ok: 0, failed: 0, status: "changed" });
    expect(first.steps.filter((s) => s.host === "alpha").map((s) => s.id)).toEqual([
      ...stepIds(root, "alpha"),
      "handler:reload app",
    ]);
    const t = join(root, "target", "alpha", "etc");
    expect(await readFile(join(t, "app.conf"), "utf8")).toBe("greeting=hello\n");
    expect(await readFile(join(t, "hosts"), "utf8")).toBe("10.0.0.5 db\n");
    expect(await readFile(join(t, "fstab"), "utf8")).toBe(
      "# BEGIN MANAGED BY lab\nnas:/x /mnt nfs defaults 0 0\n# END MANAGED BY lab\n",
    );
    expect(existsSync(join(t, "initialized"))).toBe(true);
    const snap = await snapshot(join(root, "target"));
    expect(snap["alpha/etc"]).toMatch(/^dir 750 /);
    expect(snap["alpha/etc/app.conf"]).toMatch(/^file 640 /);

    const second = await runLab(root);
    expect(second.result.exitCode).toBe(0);
    for (const h of ["alpha", "beta"])
      expect(second.result.hosts[h]).toMatchObject({ changed: 0, ok: ids.length, failed: 0, status: "ok" });
    expect(second.steps.every((s) => s.status === "ok" && s.changes.length === 0 && s.reason)).toBe(true);
    expect(await snapshot(join(root, "target"))).toEqual(snap);
    // Facts for all steps of a host come in one round trip when nothing changes.
    expect(second.result.hosts.alpha?.roundTrips).toBe(1);
  });

  it("plan changes nothing on disk, then apply does what the plan said", async () => {
    const root = await appProject();
    const before = await snapshot(root);
    const plan = await runLab(root, { check: true });
    expect(plan.result.exitCode).toBe(0);
    expect(await snapshot(root)).toEqual(before);
    const changed = (r: typeof plan) =>
      r.steps
        .filter((s) => s.status === "changed")
        .map((s) => `${s.host} ${s.id}`)
        .sort();
    expect(changed(plan)).toEqual(
      ["alpha", "beta"].flatMap((h) => [...stepIds(root, h), "handler:reload app"].map((id) => `${h} ${id}`)).sort(),
    );
    expect(plan.result.hosts.alpha).toMatchObject({ changed: 6, failed: 0 });
    const content = plan.steps.find((s) => s.id.endsWith("app.conf") && s.host === "beta")!.changes[0]!;
    expect(content.summary).toBe(`create ${root}/target/beta/etc/app.conf (15 bytes)`);
    expect(content.diff).toContain("+greeting=hello");

    const apply = await runLab(root);
    expect(changed(apply)).toEqual(changed(plan));
    const after = await runLab(root, { check: true });
    expect(Object.values(after.result.hosts).map((h) => h.changed)).toEqual([0, 0]);
  });

  it("runs a handler once when two resources notify it, and not at all when nothing changed", async () => {
    const root = await appProject();
    const log = join(root, "target", "alpha", "handler.log");
    const first = await runLab(root, { limit: "alpha" });
    expect(first.steps.filter((s) => s.id === "handler:reload app").map((s) => s.status)).toEqual(["changed"]);
    expect(await readFile(log, "utf8")).toBe("reloaded\n");

    const second = await runLab(root, { limit: "alpha" });
    expect(second.steps.some((s) => s.id.startsWith("handler:"))).toBe(false);
    expect(await readFile(log, "utf8")).toBe("reloaded\n");

    // One notifier changes: the handler runs once more.
    const third = await runLab(root, { limit: "alpha", extraVars: { greeting: "hi" } });
    expect(third.lines.filter((l) => l.includes(" changed "))).toEqual([
      `alpha changed file:${root}/target/alpha/etc/app.conf`,
      "alpha changed handler:reload app",
    ]);
    expect(await readFile(log, "utf8")).toBe("reloaded\nreloaded\n");

    // Plan: the handler is reported but not run.
    await writeFile(join(root, "target", "alpha", "etc", "hosts"), "");
    const plan = await runLab(root, { limit: "alpha", check: true, extraVars: { greeting: "hi" } });
    expect(plan.lines.filter((l) => l.includes(" changed "))).toEqual([
      `alpha changed line:${root}/target/alpha/etc/hosts:10.0.0.5 db`,
      "alpha changed handler:reload app",
    ]);
    expect(await readFile(log, "utf8")).toBe("reloaded\nreloaded\n");
  });
});

describe("selection: --tags, --skip-tags, --limit", () => {
  const selected = async (opts: Parameters<typeof runLab>[1]) => {
    const root = await appProject();
    const r = await runLab(root, { check: true, ...opts });
    // Hosts run in parallel: group by host (a stable sort keeps each host's step order).
    const steps = r.steps.filter((s) => !s.id.startsWith("handler:")).sort((a, b) => a.host.localeCompare(b.host));
    return { root, ids: steps.map((s) => `${s.host} ${s.id.split(":")[0]}`), plays: r.plays };
  };

  it("--tags keeps the steps with a matching resource, role or play tag", async () => {
    expect((await selected({ tags: ["config"] })).ids).toEqual(["alpha file", "alpha line", "beta file", "beta line"]);
    expect((await selected({ tags: ["init", "config"], limit: "alpha" })).ids).toEqual([
      "alpha file",
      "alpha line",
      "alpha command",
    ]);
    expect((await selected({ tags: ["app"], limit: "alpha" })).ids).toEqual(ids.map((k) => `alpha ${k}`));
    // A tag that no step has is a typo, not an empty run (issue 14).
    const e = await rejected(selected({ tags: ["nomatch"] }));
    expect(e.code).toBe(2);
    expect(e.message).toBe(`--tags: no step has the tag "nomatch"`);
  });

  it("--skip-tags drops them, and wins over --tags", async () => {
    expect((await selected({ skipTags: ["config"], limit: "beta" })).ids).toEqual([
      "beta directory",
      "beta block",
      "beta command",
    ]);
    expect((await selected({ tags: ["app"], skipTags: ["init"], limit: "beta" })).ids).toEqual([
      "beta directory",
      "beta file",
      "beta line",
      "beta block",
    ]);
  });

  it("--limit selects hosts by name, group and pattern", async () => {
    const only = async (limit: string) =>
      [...new Set((await selected({ limit })).ids.map((l) => l.split(" ")[0]))].sort();
    expect(await only("beta")).toEqual(["beta"]);
    expect(await only("web")).toEqual(["alpha"]);
    expect(await only("all:!db")).toEqual(["alpha"]);
    expect(await only("web:db")).toEqual(["alpha", "beta"]);
    expect((await selected({ limit: "db" })).plays).toEqual([{ play: "apps", hosts: ["beta"] }]);
  });

  it("--limit with an unknown name is an error (exit 2)", async () => {
    const root = await appProject();
    const e = await rejected(runLab(root, { limit: "gamma" }));
    expect(e.code).toBe(2);
    expect(e.message).toContain(`"gamma" is neither a host nor a group`);
  });
});

describe("bad playbooks stop before any host is touched (exit 2)", () => {
  it("a role with wrong vars fails validation and NOTHING changes on any host, not even earlier resources", async () => {
    const site = `
import { definePlaybook, file, inline } from ${LAB};
import { app } from "../roles/app.ts";
export default definePlaybook({
  name: "site",
  plays: [
    { name: "first", hosts: "all", roles: (host) => [inline([file({ path: String(host.vars.dir) + "-first.txt", content: "x" })])] },
    { name: "apps", hosts: "all", roles: (host) => [app({ dir: String(host.vars.dir), greeting: host.vars.greeting as string })] },
  ],
});`;
    // Only beta's vars are wrong (a number); alpha's are fine.
    const root = await appProject(site, "");
    await writeProjectFiles(root, {
      "inventory/hosts.yaml": inventory(root)
        .replace(`dir: ${root}/target/beta`, `dir: ${root}/target/beta\n      greeting: 42`)
        .replace(`dir: ${root}/target/alpha`, `dir: ${root}/target/alpha\n      greeting: hi`),
    });
    const before = await snapshot(root);
    const e = await rejected(runLab(root));
    expect(e.code).toBe(2);
    // The value came from the inventory: the error points at it there, and the hint at the playbook's call.
    expect(e.message).toBe("role app: vars.greeting: must be string");
    expect(e.where).toMatchObject({ host: "beta", file: join(root, "inventory", "hosts.yaml"), line: 11, col: 17 });
    expect(e.hint).toContain(`${join(root, "playbooks", "site.ts")}:8`);
    expect(await snapshot(root)).toEqual(before);
  });

  it("an unknown key in role vars names it", async () => {
    // A playbook not type-checked (e.g. vars passed through from YAML): the schema still catches it.
    const site = SITE.replace(
      `app({ dir: String(host.vars.dir), greeting: String(host.vars.greeting ?? "hello") })`,
      `app({ dir: String(host.vars.dir), greeting: "x", colour: "red" } as never)`,
    );
    expect(site).toContain("colour");
    const root = await appProject(site);
    const e = await rejected(runLab(root));
    expect(e.code).toBe(2);
    expect(e.message).toContain(`vars.colour: unknown var "colour"`);
    expect(e.where).toMatchObject({ file: join(root, "playbooks", "site.ts"), line: 7 });
  });

  it("a duplicate resource id is an error", async () => {
    const site = `
import { definePlaybook, file, inline } from ${LAB};
import { app } from "../roles/app.ts";
export default definePlaybook({
  name: "site",
  plays: [{ name: "apps", hosts: "all", roles: (host) => [
    app({ dir: String(host.vars.dir), greeting: "a" }),
    inline([file({ path: String(host.vars.dir) + "/etc/app.conf", content: "other" })]),
  ] }],
});`;
    const root = await appProject(site);
    const before = await snapshot(root);
    const e = await rejected(runLab(root));
    expect(e.code).toBe(2);
    expect(e.message).toBe(
      `host alpha: resource file:${root}/target/alpha/etc/app.conf is declared twice (roles app and inline)`,
    );
    expect(await snapshot(root)).toEqual(before);
  });

  it("a notify of an unknown handler is an error", async () => {
    const site = `
import { definePlaybook, file, inline } from ${LAB};
export default definePlaybook({ name: "site", plays: [{ name: "p", hosts: "alpha", roles: (host) => [
  inline([file({ path: String(host.vars.dir) + ".txt", content: "x" }, { notify: ["restart nothing"] })]),
] }] });`;
    const e = await rejected(runLab(await appProject(site)));
    expect(e.code).toBe(2);
    expect(e.message).toContain(`notifies unknown handler "restart nothing"`);
  });

  it("a playbook that throws while loading gives a clear error", async () => {
    const site = `import { definePlaybook } from ${LAB};\nthrow new Error("boom: no such VLAN 'iot'");\nexport default definePlaybook({ name: "x", plays: [] });\n`;
    const root = await appProject(site);
    const e = await rejected(runLab(root));
    expect(e.code).toBe(2);
    expect(e.message).toContain(
      `playbook ${join(root, "playbooks", "site.ts")} failed to load: boom: no such VLAN 'iot'`,
    );
    expect(e.where.file).toBe(join(root, "playbooks", "site.ts"));
  });

  it("a play whose roles() throws names the play and the host", async () => {
    const site = `import { definePlaybook } from ${LAB};
export default definePlaybook({ name: "x", plays: [{ name: "apps", hosts: "db", roles: (host) => { throw new Error("no port for " + host.name); } }] });`;
    const e = await rejected(runLab(await appProject(site)));
    expect(e.code).toBe(2);
    expect(e.message).toBe(`play "apps" failed while listing roles for host beta: no port for beta`);
  });

  it("a playbook without a default export, or a missing playbook, is an error", async () => {
    const e1 = await rejected(runLab(await appProject(`export const x = 1;\n`)));
    expect(e1.code).toBe(2);
    expect(e1.message).toContain("has no default export made with definePlaybook()");
    const root = await appProject();
    const e2 = await rejected(runLab(root, { playbook: join(root, "playbooks", "nope.ts") }));
    expect(e2.code).toBe(2);
    expect(e2.message).toBe(`playbook not found: ${join(root, "playbooks", "nope.ts")}`);
  });
});

describe("failures while applying", () => {
  const STUBBORN = `
import { definePlaybook, file, inline, type Resource } from ${LAB};
/** A resource whose apply does nothing: it can never converge. */
const stubborn: Resource<string, string> = {
  id: "stubborn:switch",
  want: "on",
  read: () => Promise.resolve("off"),
  diff: (want, have) => (want === have ? [] : [{ key: "state", summary: "turn the switch " + want }]),
  apply: () => Promise.resolve(),
};
export default definePlaybook({ name: "site", plays: [{ name: "p", hosts: "all", roles: (host) => [inline([
  file({ path: String(host.vars.dir) + "-before.txt", content: "before\\n" }),
  ...(host.name === "alpha" ? [stubborn] : []),
  file({ path: String(host.vars.dir) + "-after.txt", content: "after\\n" }),
])] }] });`;

  it("a resource that does not converge is reported failed; later steps on that host are not run; other hosts go on", async () => {
    const root = await appProject(STUBBORN);
    const r = await runLab(root);
    expect(r.result.exitCode).toBe(3);
    expect(r.result.hosts.alpha).toMatchObject({ changed: 1, failed: 1, skipped: 1, status: "failed" });
    expect(r.result.hosts.beta).toMatchObject({ changed: 2, failed: 0, status: "changed" });
    const failed = r.steps.find((s) => s.id === "stubborn:switch")!;
    expect(failed.status).toBe("failed");
    expect(failed.reason).toBe("did not converge: still turn the switch on");
    const skipped = r.steps.find((s) => s.host === "alpha" && s.id.endsWith("-after.txt"))!;
    expect(skipped).toMatchObject({ status: "skipped", reason: "not run: an earlier step failed (stubborn:switch)" });
    expect(existsSync(join(root, "target", "alpha-before.txt"))).toBe(true);
    expect(existsSync(join(root, "target", "alpha-after.txt"))).toBe(false);
    expect(existsSync(join(root, "target", "beta-after.txt"))).toBe(true);
  });

  it("a failing command reports the host, the command and stderr", async () => {
    const site = `import { command, definePlaybook, inline } from ${LAB};
export default definePlaybook({ name: "site", plays: [{ name: "p", hosts: "alpha", roles: () => [inline([
  command({ command: "echo oops >&2; exit 7", creates: "/nonexistent/never" }),
])] }] });`;
    const r = await runLab(await appProject(site));
    expect(r.result.exitCode).toBe(3);
    const s = r.steps[0]!;
    expect(s.status).toBe("failed");
    expect(s.reason).toContain("command echo oops >&2; exit 7 failed (exit 7):");
    expect(s.reason).toContain("oops");
    expect(s.hint).toContain("command: echo oops >&2; exit 7");
  });
});

describe("secrets through a whole run", () => {
  it("a secret file is written exactly, 0600, and its value is in no result (plan or apply)", async () => {
    const value = "s3cret-runner-7d41e9 'quoted' $(not run)";
    const site = `import { definePlaybook, file, inline, Secret } from ${LAB};
const token = new Secret("api-token", ${JSON.stringify(value)});
export default definePlaybook({ name: "site", plays: [{ name: "p", hosts: "alpha", roles: (host) => [inline([
  file({ path: String(host.vars.dir) + "-token", content: token }),
])] }] });`;
    const root = await appProject(site);
    const plan = await runLab(root, { check: true });
    const apply = await runLab(root);
    const again = await runLab(root);
    for (const r of [plan, apply, again]) expect(JSON.stringify(r)).not.toContain("s3cret-runner");
    expect(plan.steps[0]!.changes).toEqual([
      {
        key: "content",
        summary: `create ${root}/target/alpha-token (secret content)`,
        before: null,
        after: "(sensitive)",
        sensitive: true,
      },
    ]);
    expect(await readFile(join(root, "target", "alpha-token"), "utf8")).toBe(value);
    expect((await snapshot(join(root, "target")))["alpha-token"]).toMatch(/^file 600 /);
    expect(again.result.hosts.alpha).toMatchObject({ changed: 0, ok: 1 });
  });
});
