// The INI value rules against Python itself: shlex.split(comments=True) and
// ast.literal_eval (what Ansible's INI plugin calls), run by python3.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseIniValue } from "../../../src/import/python-literal.ts";
import { shlexSplit } from "../../../src/import/shlex.ts";
import { expandHostPattern } from "../../../src/import/host-pattern.ts";

const PY = `
import ast, json, shlex, sys
def lit(v):
    try:
        v = ast.literal_eval(v)
    except (ValueError, SyntaxError):
        pass
    if isinstance(v, (tuple, set, frozenset)): v = list(v)
    if isinstance(v, bytes): v = v.decode()
    return v
def split(s):
    try: return shlex.split(s, comments=True)
    except ValueError as e: return {"error": str(e)}
cases = json.load(sys.stdin)
print(json.dumps({"values": [lit(v) for v in cases["values"]], "lines": [split(s) for s in cases["lines"]]}))
`;

const values = [
  "1",
  "-3",
  "+4",
  "0",
  "00",
  "007",
  "0x1F",
  "0o17",
  "0b101",
  "1_000",
  "1.5",
  ".5",
  "1e3",
  "2.",
  "1e-2",
  "True",
  "False",
  "None",
  "true",
  "yes",
  "no",
  "on",
  "'single'",
  '"double"',
  "'a' 'b'",
  "'\\n\\t\\x41\\u00e9'",
  "r'\\n'",
  "b'bytes'",
  "'''tri'''",
  "'unterminated",
  "[1, 2, 3]",
  "[1, 'a', [True, None]]",
  "[]",
  "[1,]",
  "(1, 2)",
  "()",
  "(5)",
  "1, 2",
  "{'a': 1, 'b': [2]}",
  "{}",
  "{1: 'x'}",
  "{1, 2}",
  "{'a': {'b': {'c': None}}}",
  "[1 2]",
  "{'a' 1}",
  "hello world",
  "a=b",
  "/usr/bin/python3",
  "10.0.0.1",
  "1.2.3",
  "~/.ssh/id",
  "{{ inventory_hostname }}",
  "-",
  "--",
  "inf",
  "nan",
  " 7",
  "0.5",
];
const lines = [
  "web1",
  "web1 a=1 b=2",
  "web1 note=\"two words\" x='it''s'",
  "web1 #comment",
  "web1 a=1#no-space comment",
  "web1 'quoted host'",
  'web1 a="x\\"y" b=\\#c',
  "web1 a='x\\y'",
  'web1 a="unterminated',
  "web1 a=\\",
  "  spaced   out  ",
];

describe("INI values and host lines match Python", () => {
  const py = JSON.parse(
    execFileSync("python3", ["-c", PY], { input: JSON.stringify({ values, lines }), encoding: "utf8" }),
  ) as { values: unknown[]; lines: (string[] | { error: string })[] };

  it.each(values.map((v, i) => [v, i] as const))("literal %s", (v, i) => {
    expect(parseIniValue(v)).toEqual(py.values[i]);
  });

  it.each(lines.map((l, i) => [l, i] as const))("shlex %s", (l, i) => {
    const want = py.lines[i]!;
    if ("error" in want) expect(() => shlexSplit(l)).toThrow(want.error);
    else expect(shlexSplit(l)).toEqual(want);
  });
});

describe("host patterns", () => {
  it.each([
    ["web[01:03]", ["web01", "web02", "web03"], undefined],
    ["db-[a:c]", ["db-a", "db-b", "db-c"], undefined],
    ["node[0:10:5].lab", ["node0.lab", "node5.lab", "node10.lab"], undefined],
    ["r[1:2]c[a:b]", ["r1ca", "r1cb", "r2ca", "r2cb"], undefined],
    ["[:4]x", ["0x", "1x", "2x", "3x", "4x"], undefined],
    ["web04:2222", ["web04"], 2222],
    ["web[1:2]:2200", ["web1", "web2"], 2200],
    ["[2001:db8::1]:22", ["2001:db8::1"], 22],
    ["10.0.0.5", ["10.0.0.5"], undefined],
  ] as const)("%s", (pattern, hosts, port) => {
    expect(expandHostPattern(pattern)).toEqual(port === undefined ? { hosts } : { hosts, port });
  });

  it.each([
    ["web[01:3]", "equal-length"],
    ["web[5]", "begin:end"],
    ["web[1:]", "end value"],
    ["web[c:a]", "begin <= end"],
    ["web:", "ending in ':'"],
  ])("%s is an error (%s)", (pattern, message) => {
    expect(() => expandHostPattern(pattern)).toThrow(message);
  });
});
