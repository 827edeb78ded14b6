// Host patterns, with Ansible's semantics: a:b and a,b (union), a:&b
// (intersection), a:!b (exclusion), globs; unions first, then intersections,
// then exclusions, whatever the order they are written in.
import { describe, expect, it } from "vitest";
import { LabError } from "../../../src/errors.ts";
import { matchHosts } from "../../../src/inventory/patterns.ts";
import { inventoryOf } from "../helpers/inventory.ts";

const inv = inventoryOf({
  "a.yaml": `
hosts:
  web1: {}
  web2: {}
  db1: {}
  db2: {}
  lb1.example.com: {}
groups:
  web: { hosts: [web1, web2] }
  db: { hosts: [db1, db2] }
  prod: { hosts: [web1, db1, lb1.example.com] }
  staging: { hosts: [web2, db2] }
  edge: { children: [web], hosts: [lb1.example.com] }
`,
});
const m = (p: string) => matchHosts(inv, p);

describe("matchHosts", () => {
  it.each([
    ["web1", ["web1"]],
    ["web", ["web1", "web2"]],
    ["edge", ["web1", "web2", "lb1.example.com"]],
    ["all", ["web1", "web2", "db1", "db2", "lb1.example.com"]],
    ["*", ["web1", "web2", "db1", "db2", "lb1.example.com"]],
    ["web:db", ["web1", "web2", "db1", "db2"]],
    ["db,web", ["web1", "web2", "db1", "db2"]],
    [" web , db1 ", ["web1", "web2", "db1"]],
    ["all:!db", ["web1", "web2", "lb1.example.com"]],
    ["web:&prod", ["web1"]],
    ["web:db:&prod:!db1", ["web1"]],
    ["web*", ["web1", "web2"]],
    ["*1", ["web1", "db1"]],
    ["?b1", ["db1"]],
    ["lb1.example.*", ["lb1.example.com"]],
    ["lb1?example?com", ["lb1.example.com"]],
    ["st*", ["web2", "db2"]],
    ["nothing*", []],
  ])("%s", (pattern, hosts) => {
    expect(m(pattern)).toEqual(hosts);
  });

  it("a dot in a glob is literal, not a regexp wildcard", () => {
    expect(m("lb1.example.c?m")).toEqual(["lb1.example.com"]);
    expect(m("lb1Xexample*")).toEqual([]);
  });

  it("is independent of the order of the terms (unions, then &, then !)", () => {
    const want = ["web1"];
    for (const p of ["web:db:&prod:!db1", "&prod:web:db:!db1", "!db1:&prod:web:db", "web:!db1:db:&prod"])
      expect(m(p), p).toEqual(want);
    expect(m("!db:all")).toEqual(m("all:!db"));
    expect(m("&prod:web")).toEqual(["web1"]);
  });

  it("with only exclusions or intersections, starts from all", () => {
    expect(m("!db")).toEqual(["web1", "web2", "lb1.example.com"]);
    expect(m("&prod")).toEqual(["web1", "db1", "lb1.example.com"]);
    expect(m("&prod:!web")).toEqual(["db1", "lb1.example.com"]);
  });

  it("an unknown name is an error (exit 2) that says where it came from", () => {
    const e = (() => {
      try {
        matchHosts(inv, "web:dbb", 'play "site" hosts');
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(LabError);
    expect((e as LabError).code).toBe(2);
    expect((e as LabError).message).toBe(`play "site" hosts: "dbb" is neither a host nor a group in the inventory`);
    expect((e as LabError).hint).toContain("web, db, prod, staging, edge");
    expect(() => m("!nosuch")).toThrow(/"nosuch" is neither/);
  });

  it("an empty pattern is an error", () => {
    expect(() => m("")).toThrow(/empty host pattern in --limit/);
    expect(() => m(" : , ")).toThrow(/empty host pattern/);
  });
});
