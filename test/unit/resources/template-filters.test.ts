// Ansible's Jinja filters in lab's templates: each checked against the output
// Ansible 2.14 gives for the same expression (values from ansible's core.py semantics).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LabError } from "../../../src/errors.ts";
import { templateRenderer } from "../../../src/engine/template.ts";
import { dict2items, items2dict, regexReplace, toBool } from "../../../src/engine/template-filters.ts";
import { tempDir } from "../helpers/temp.ts";

const render = async (tpl: string, vars: Record<string, unknown> = {}) => {
  const root = await tempDir("lab-filters-");
  await mkdir(join(root, "templates"), { recursive: true });
  await writeFile(join(root, "templates", "t.njk"), tpl);
  return templateRenderer(root)("t.njk", vars);
};

describe("Ansible filters", () => {
  it.each([
    ["{{ v | to_json }}", { v: { b: 1, a: [true, null] } }, '{"b":1,"a":[true,null]}'],
    [
      "{{ v | to_nice_json }}",
      { v: { b: 1, a: { d: 2, c: 3 } } },
      '{\n    "a": {\n        "c": 3,\n        "d": 2\n    },\n    "b": 1\n}',
    ],
    ["{{ v | to_nice_json(indent=2) }}", { v: { b: 1 } }, '{\n  "b": 1\n}'],
    ["{{ v | to_yaml }}", { v: { name: "web", ports: [80, 443] } }, "name: web\nports:\n  - 80\n  - 443\n"],
    ["{{ v | to_nice_yaml }}", { v: { a: { b: 1 } } }, "a:\n    b: 1\n"],
    ["{{ '{\"x\": 2}' | from_json | to_json }}", {}, '{"x":2}'],
    ["{{ 'web01.home' | regex_replace('^(\\\\w+?)(\\\\d+)\\\\..*$', '\\\\2-\\\\1') }}", {}, "01-web"],
    ["{{ 'a.b.c' | regex_replace('\\\\.', '/') }}", {}, "a/b/c"],
    ["{{ 'ABC' | regex_replace('b', 'x', ignorecase=true) }}", {}, "AxC"],
    ["{{ 'k=v' | regex_replace('(?P<key>\\\\w)=(?P<val>\\\\w)', '\\\\g<val>=\\\\g<key>') }}", {}, "v=k"],
    ["{{ 'cost' | regex_replace('cost', '$5') }}", {}, "$5"],
    ["{% if 'yes' | bool %}on{% endif %}{% if 'no' | bool %}NO{% endif %}", {}, "on"],
    ["{% for i in d | dict2items %}{{ i.key }}={{ i.value }};{% endfor %}", { d: { a: 1, b: 2 } }, "a=1;b=2;"],
    ["{% for i in d | dict2items('k', 'v') %}{{ i.k }}{{ i.v }}{% endfor %}", { d: { a: 1 } }, "a1"],
    [
      "{{ l | items2dict | to_json }}",
      {
        l: [
          { key: "a", value: 1 },
          { key: "b", value: 2 },
        ],
      },
      '{"a":1,"b":2}',
    ],
    ["{{ l | items2dict(key_name='n', value_name='x') | to_json }}", { l: [{ n: "a", x: 1 }] }, '{"a":1}'],
    [
      "[{{ missing | default('d') }}][{{ empty | default('d') }}][{{ empty | default('d', true) }}]",
      { empty: "" },
      "[d][][d]",
    ],
    ["{{ l | join(', ') }}", { l: ["a", "b"] }, "a, b"],
    ["{{ 'lab:secret' | b64encode }}|{{ 'bGFiOnNlY3JldA==' | b64decode }}", {}, "bGFiOnNlY3JldA==|lab:secret"],
    ["{{ x | mandatory }}", { x: 0 }, "0"],
  ])("%s", async (tpl, vars, want) => {
    expect(await render(tpl, vars)).toBe(want);
  });

  it("bool follows Ansible: yes/on/1/true in any case, the number 1", () => {
    for (const t of ["yes", "On", "1", "TRUE", " true ", 1, true]) expect(toBool(t)).toBe(true);
    for (const f of ["no", "off", "0", "false", "", "y", 0, 2, null, undefined, false]) expect(toBool(f)).toBe(false);
  });

  it("regex_replace replaces every match and keeps a literal $ in the replacement", () => {
    expect(regexReplace("aaa", "a", "b")).toBe("bbb");
    expect(regexReplace("x", "x", "$&")).toBe("$&");
    expect(regexReplace("l1\nl2", "^l", "L", false, true)).toBe("L1\nL2");
    expect(regexReplace("l1\nl2", "^l", "L")).toBe("L1\nl2");
  });

  it("dict2items and items2dict refuse the wrong shape", () => {
    expect(() => dict2items([1])).toThrow("dict2items requires a dictionary, got a list");
    expect(() => items2dict({})).toThrow("items2dict requires a list");
    expect(() => items2dict([{ key: "a" }])).toThrow('every item needs "key" and "value"');
  });

  it("an undefined value names the expression and its position", async () => {
    const e = await render("line 1\n  port: {{ app.port }}\n", { app: {} }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LabError);
    expect((e as LabError).code).toBe(2);
    expect((e as LabError).message).toBe("template templates/t.njk: {{ app.port }} is undefined (or null)");
    expect((e as LabError).where).toMatchObject({ line: 2, col: 9 });
  });

  it("mandatory names the missing variable and its line", async () => {
    const e = await render("a={{ a | mandatory }}\nb={{ b.c | mandatory }}\n", { a: 1, b: {} }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(LabError);
    expect((e as LabError).message).toBe("template templates/t.njk: mandatory variable b.c is not defined");
    expect((e as LabError).where).toMatchObject({ line: 2, col: 6 });
  });
});

describe("keyword arguments", () => {
  it("map onto parameters by name, as in Jinja, and an unknown one is an error", async () => {
    expect(await render("{{ 'a\\nb' | regex_replace('^b', 'B', multiline=true) }}")).toBe("a\nB");
    expect(await render("{{ 'a\\nb' | regex_replace('^b', 'B', multiline=false) }}")).toBe("a\nb");
    await expect(render("{{ v | to_nice_json(width=2) }}", { v: 1 })).rejects.toThrow(
      'unexpected keyword argument "width" (takes indent)',
    );
  });
});
