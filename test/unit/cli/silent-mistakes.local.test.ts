// Mistakes that used to pass silently (exit 0, or a misleading message) are exit 2
// naming the cause: bad numbers, unknown tags, a --limit matching nothing, a
// playbook whose import fails. Through the real CLI entry, local transport.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LAB } from "../helpers/project.ts";
import { localProject, runMain, TWO_PLAYS } from "./helpers-main.ts";

describe("bad numbers name the flag", () => {
  it.each([
    [["plan", "--forks", "abc"], "--forks"],
    [["plan", "--forks", "0"], "--forks"],
    [["apply", "--lock-timeout", "-1"], "--lock-timeout"],
    [["apply", "--lock-timeout", "1.5"], "--lock-timeout"],
    [["sim", "--port", "70000"], "--port"],
  ])("%j is exit 2", async (args, flag) => {
    const root = await localProject();
    const r = await runMain(["-C", root, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(flag);
    expect(r.stderr).toContain("expected a whole number");
  });

  it("--guest-image without --guests containers is exit 2 (there would be no guest to boot it)", async () => {
    const root = await localProject();
    const r = await runMain(["-C", root, "sim", "--guest-image", "lab-testhost-guest:bookworm"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--guest-image needs --guests containers");
  });

  it("a good number still runs", async () => {
    const root = await localProject();
    const r = await runMain(["-C", root, "plan", "--forks", "3"]);
    expect(r.stderr).not.toContain("error");
    expect(r.code).toBe(0);
  });
});

describe("tags", () => {
  it("--tags naming a tag no step has is exit 2 listing the known tags", async () => {
    const root = await localProject();
    const r = await runMain(["-C", root, "plan", "--tags", "motd,mtod"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--tags: no step has the tag "mtod"`);
    expect(r.stderr).toContain("known tags: motd, webtier");
  });

  it("--skip-tags too; known tags select as before", async () => {
    const root = await localProject();
    const bad = await runMain(["-C", root, "plan", "--skip-tags", "nope"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`--skip-tags: no step has the tag "nope"`);
    const ok = await runMain(["-C", root, "plan", "--tags", "motd"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("motd");
    expect(ok.stdout).not.toContain("/pg");
  });
});

describe("--limit", () => {
  it("an unknown name lists groups and hosts", async () => {
    const root = await localProject();
    const r = await runMain(["-C", root, "plan", "--limit", "gamma"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`"gamma" is neither a host nor a group`);
    expect(r.stderr).toContain("known groups: web, db, all; known hosts: alpha, beta");
  });

  it("a pattern that matches no host lists groups and hosts", async () => {
    const root = await localProject();
    const r = await runMain(["-C", root, "plan", "--limit", "web:&db"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no hosts matched --limit web:&db");
    expect(r.stderr).toContain("known groups: web, db, all; known hosts: alpha, beta");
  });
});

describe("a playbook whose import fails", () => {
  it("names the missing import and the importing file, not 'playbook not found'", async () => {
    const root = await localProject(`import { helper } from "../roles/missing.ts";\nvoid helper;\n${TWO_PLAYS}`);
    const r = await runMain(["-C", root, "plan"]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain("playbook not found");
    expect(r.stderr).toContain(join(root, "roles", "missing.ts"));
    expect(r.stderr).toContain(`imported from ${join(root, "playbooks", "site.ts")}`);
  });

  it("a missing playbook is still 'playbook not found'", async () => {
    const root = await localProject();
    const r = await runMain(["-C", root, "plan", "playbooks/nope.ts"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`playbook not found: ${join(root, "playbooks", "nope.ts")}`);
  });
});

describe("-e key=value is coerced by the declared type", () => {
  const TYPED = `import { Type, defineHostVars, definePlaybook, inline, file } from ${LAB};
const vars = defineHostVars({ dir: Type.String(), flag: Type.Boolean({ default: false }), n: Type.Integer({ default: 1 }), name: Type.String({ default: "x" }) });
export default definePlaybook({ name: "site", vars, plays: [{ name: "p", hosts: "alpha", roles: (h) => [inline([
  file({ path: h.vars.dir + "/types", content: [typeof h.vars.flag, String(h.vars.flag), typeof h.vars.n, String(h.vars.n), typeof h.vars.name, h.vars.name].join(" ") + "\\n" }),
])] }] });
`;
  it("flag=true is a boolean, n=3 a number, name=007 stays a string", async () => {
    const root = await localProject(TYPED);
    const r = await runMain(["-C", root, "apply", "-y", "-e", "flag=true", "-e", "n=3", "-e", "name=007"]);
    expect(r.code, r.stderr).toBe(0);
    const { readFile } = await import("node:fs/promises");
    expect(await readFile(join(root, "alpha", "types"), "utf8")).toBe("boolean true number 3 string 007\n");
  });

  it("a value that is not of the declared type is exit 2 naming the var", async () => {
    const root = await localProject(TYPED);
    const r = await runMain(["-C", root, "plan", "-e", "flag=maybe"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--extra-vars flag: must be boolean");
  });
});
