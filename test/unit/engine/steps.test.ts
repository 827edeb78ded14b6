// Expanding a playbook into per-host steps (pure: no host is contacted):
// selection by tags, validation of role vars, merging of package steps.
import { readFileSync } from "node:fs";
import { NO_POLICY } from "../../../src/backup/policy.ts";
import { describe, expect, it } from "vitest";
import { Type } from "@sinclair/typebox";
import { defineRole, inline, type Playbook, type RoleTools } from "../../../src/engine/playbook.ts";
import { expandPlaybook, type Selection } from "../../../src/engine/steps.ts";
import type { Resource } from "../../../src/engine/types.ts";
import { LabError } from "../../../src/errors.ts";
import { file } from "../../../src/resources/file.ts";
import { packages, type PackagesWant } from "../../../src/resources/packages.ts";
import { restartService } from "../../../src/resources/service.ts";
import { Secret } from "../../../src/secrets/secret.ts";
import { inventoryOf } from "../helpers/inventory.ts";

const inv = inventoryOf({ "hosts.yaml": "hosts:\n  web1: {}\n  web2: {}\ngroups:\n  web:\n    hosts: [web1, web2]\n" });
const tools: RoleTools = {
  root: "/project",
  backups: NO_POLICY,
  template: () => {
    throw new Error("no templates here");
  },
  secret: (name) => new Secret(name, `value-of-${name}-0123`),
  lab: inv.lab,
  vmKeys: (vm) => inv.vmKeys(vm),
  hosts: inv.hosts,
};
const expand = (pb: Playbook, sel: Selection = {}) => expandPlaybook(pb, "/project/playbooks/site.ts", inv, sel, tools);
const stepsOf = (pb: Playbook, sel: Selection = {}, host = "web1") =>
  expand(pb, sel)[0]!.hosts.find((h) => h.host === host)!.steps;
const one = (resources: Resource[], tags?: string[]): Playbook => ({
  name: "pb",
  plays: [{ name: "p", hosts: "web1", roles: () => [inline(resources, tags ? { tags } : {})] }],
});
const threw = (f: () => unknown): LabError => {
  try {
    f();
  } catch (e) {
    if (e instanceof LabError) return e;
    throw e;
  }
  throw new Error("nothing thrown");
};

describe("merging adjacent package steps", () => {
  it("merges adjacent packages of the same state into ONE step (one apt-get call)", () => {
    const steps = stepsOf(
      one([
        packages({ names: ["curl"] }),
        packages({ names: ["git", "curl"] }),
        file({ path: "/etc/x", content: "" }),
        packages({ names: ["vim"] }),
      ]),
    );
    expect(steps.map((s) => s.resource.id)).toEqual([
      "packages:present:curl,git",
      "file:/etc/x",
      "packages:present:vim",
    ]);
    const merged = steps[0]!.resource;
    expect((merged.want as PackagesWant).names).toEqual(["curl", "git"]);
    expect(merged.facts?.().map((f) => f.key)).toEqual(["apt:curl,git"]);
    expect(merged.diff(merged.want, { installed: { curl: "1" }, candidate: {} }).map((c) => c.summary)).toEqual([
      "install git",
    ]);
  });

  it("does not merge different states, notifies or tags", () => {
    const handlers = [restartService("nginx")];
    const pb: Playbook = {
      name: "pb",
      plays: [
        {
          name: "p",
          hosts: "web1",
          roles: () => [
            inline(
              [
                packages({ names: ["a1"] }),
                packages({ names: ["b1"], state: "absent" }),
                packages({ names: ["c1"] }),
                packages({ names: ["d1"] }, { notify: ["restart nginx"] }),
                packages({ names: ["e1"] }, { tags: ["x"] }),
              ],
              { handlers },
            ),
          ],
        },
      ],
    };
    expect(stepsOf(pb).map((s) => s.resource.id)).toEqual([
      "packages:present:a1",
      "packages:absent:b1",
      "packages:present:c1",
      "packages:present:d1",
      "packages:present:e1",
    ]);
  });
});

describe("tags", () => {
  const pb: Playbook = {
    name: "pb",
    plays: [
      {
        name: "p",
        hosts: "web",
        tags: ["base"],
        roles: () => [
          inline([file({ path: "/a", content: "" }, { tags: ["one"] }), file({ path: "/b", content: "" })], {
            tags: ["inl"],
          }),
        ],
      },
    ],
  };
  const ids = (sel: Selection) => stepsOf(pb, sel).map((s) => s.resource.id);
  it("play, role and resource tags all count", () => {
    expect(stepsOf(pb)[0]!.tags).toEqual(["base", "inl", "one"]);
    expect(ids({ tags: ["one"] })).toEqual(["file:/a"]);
    expect(ids({ tags: ["inl"] })).toEqual(["file:/a", "file:/b"]);
    expect(ids({ tags: ["base"] })).toEqual(["file:/a", "file:/b"]);
    expect(ids({ tags: ["all"] })).toEqual(["file:/a", "file:/b"]);
    expect(ids({ skipTags: ["one"] })).toEqual(["file:/b"]);
    expect(ids({ skipTags: ["base"] })).toEqual([]);
  });
});

describe("role vars", () => {
  const role = defineRole({
    name: "db",
    vars: Type.Object({ port: Type.Integer({ minimum: 1 }), password: Type.String() }, { additionalProperties: false }),
    resources: (v) => [file({ path: `/etc/db/${v.port}.conf`, content: "x" })],
  });
  const pb = (vars: unknown): Playbook => ({
    name: "pb",
    plays: [{ name: "p", hosts: "web1", roles: () => [role(vars as never)] }],
  });

  it("a Secret passes a string schema (validated as the string it stands for)", () => {
    expect(stepsOf(pb({ port: 5432, password: tools.secret("db") })).map((s) => s.resource.id)).toEqual([
      "file:/etc/db/5432.conf",
    ]);
  });

  it.each([
    [{ password: "x" }, "role db: vars.port: is required but missing"],
    [{ port: 0, password: "x" }, "role db: vars.port: must be >= 1"],
    [{ port: "5432", password: "x" }, "role db: vars.port: must be integer"],
    [
      { port: 1, password: "x", pasword: "y" },
      `role db: vars.pasword: unknown var "pasword" (did you mean "password"?)`,
    ],
  ])("%j is refused with exit 2, at the playbook line that called the role", (vars, message) => {
    const e = threw(() => expand(pb(vars)));
    expect(e.code).toBe(2);
    expect(e.message).toBe(message);
    const line =
      readFileSync(import.meta.filename, "utf8")
        .split("\n")
        .findIndex((l) => l.includes("roles: () => [role(vars as never)]")) + 1;
    expect(e.where).toMatchObject({ file: import.meta.filename, line, host: "web1" });
  });

  it("an unknown host pattern in a play names the play", () => {
    const e = threw(() => expand({ name: "pb", plays: [{ name: "dbs", hosts: "db", roles: () => [] }] }));
    expect(e.message).toBe(`play "dbs" hosts: "db" is neither a host nor a group in the inventory`);
  });
});
