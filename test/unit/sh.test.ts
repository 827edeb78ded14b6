// The one quoting function: hostile values go through a REAL `sh -c` and must
// come back byte-identical, with nothing executed and nothing expanded.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { quote, raw, sh } from "../../src/sh.ts";
import { tempDir } from "./helpers/temp.ts";

let dir = "";
let marker = "";
beforeEach(async () => {
  dir = await tempDir("lab-sh-");
  marker = join(dir, "PWNED");
  // Files a glob would expand to, if a value were ever left unquoted.
  for (const f of ["a.txt", "b.txt", "-rf"]) writeFileSync(join(dir, f), "");
});

const sysh = (command: string): string =>
  execFileSync("sh", ["-c", command], {
    cwd: dir,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/root", X: "expanded" },
  });

const hostile = (m: string): [string, string][] => [
  ["spaces", "two  words\tand a tab"],
  ["single quote", "it's"],
  ["only quotes", "'''"],
  ["quote dance", `'"'"'`],
  ["double quotes", `say "hi"`],
  ["command substitution", `$(touch ${m})`],
  ["backticks", `\`touch ${m}\``],
  ["variable", "$X ${X} $HOME ${HOME:-none}"],
  ["arithmetic", "$((1+1))"],
  ["newline injection", `a\ntouch ${m}\nb`],
  ["trailing newlines", "line\n\n"],
  ["carriage return", "a\rb"],
  ["semicolon", `x; touch ${m}`],
  ["and/or", `x && touch ${m} || touch ${m}`],
  ["pipe", `x | touch ${m}`],
  ["redirect", `x > ${m}`],
  ["background", `x & touch ${m}`],
  ["subshell", `(touch ${m})`],
  ["brace group", `{ touch ${m}; }`],
  ["star glob", "*"],
  ["question glob", "?.txt"],
  ["bracket glob", "[ab].txt"],
  ["brace expansion (bash)", "{a,b}.txt"],
  ["tilde", "~"],
  ["tilde user", "~root/x"],
  ["leading dash", "-rf"],
  ["double dash", "--help"],
  ["printf option-like", "-n"],
  ["backslashes", "a\\nb\\\\c\\"],
  ["percent", "%s %d %%"],
  ["hash", "#not a comment"],
  ["bang", "!!"],
  ["equals", "A=1"],
  ["unicode", "żółć ✓ 日本"],
  ["empty", ""],
  ["one space", " "],
  ["long", "x'y\"z$".repeat(2000)],
];

describe("sh`…` through a real sh -c", () => {
  it.each(hostile("MARKER"))("%s comes back byte-identical", (_name, template) => {
    const v = template.replaceAll("MARKER", marker);
    expect(sysh(sh`printf %s ${v}`)).toBe(v);
    expect(existsSync(marker)).toBe(false);
    // Nothing was written into the directory either (redirects, globs).
    expect(readdirSync(dir).sort()).toEqual(["-rf", "a.txt", "b.txt"]);
  });

  it("keeps each value ONE word, even next to literal text", () => {
    const values = hostile(marker).map(([, v]) => v);
    expect(sysh(sh`printf '[%s]' ${values}`)).toBe(values.map((v) => `[${v}]`).join(""));
    expect(sysh(sh`printf '[%s]' pre${"a b"}post ${"c"}`)).toBe("[prea bpost][c]");
    expect(existsSync(marker)).toBe(false);
  });

  it("keeps arbitrary printable text identical (seeded random strings)", () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join("") + "\n\t";
    const values = Array.from({ length: 300 }, () =>
      Array.from({ length: 1 + Math.floor(rnd() * 24) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join(""),
    );
    expect(sysh(sh`printf '%s\\0' ${values}`)).toBe(values.map((v) => `${v}\0`).join(""));
  });

  it("quotes numbers and arrays element by element; an empty array adds no word", () => {
    expect(sh`kill -${9} ${[1, 22]}`).toBe("kill -9 1 22");
    expect(sysh(sh`printf '[%s]' a ${[]} b`)).toBe("[a][b]");
    expect(sysh(sh`printf '[%s]' ${["x y", "", "z"]}`)).toBe("[x y][][z]");
  });

  it("passes only Raw fragments through unquoted", () => {
    expect(sh`a ${raw("$(echo hi)")} ${"$(echo hi)"}`).toBe(`a $(echo hi) '$(echo hi)'`);
    expect(sysh(sh`printf %s ${raw("$X")}`)).toBe("expanded");
  });
});

describe("quote", () => {
  // Each of these, left bare, would be expanded, split, globbed or executed by sh.
  const mustQuote: [string, string][] = [
    ["a bare variable", "$X"],
    ["a braced variable", "${X}"],
    ["a positional parameter", "$1"],
    ["backticks", "`id`"],
    ["command substitution", "$(id)"],
    ["a newline", "a\nb"],
    ["a tab", "a\tb"],
    ["a star glob", "*.txt"],
    ["a question-mark glob", "?.txt"],
    ["a bracket glob", "[ab].txt"],
    ["a tilde", "~root"],
    ["a semicolon", "a;b"],
    ["a pipe", "a|b"],
    ["an ampersand", "a&b"],
    ["a redirect", "a>b"],
    ["a hash", "#x"],
    ["a backslash", "a\\b"],
    ["a single quote", "it's"],
    ["a double quote", 'say"x'],
    ["parentheses", "(a)"],
    ["braces", "{a,b}"],
    ["a bang", "!x"],
    ["a space", "a b"],
  ];
  it.each(mustQuote)("quotes %s", (_name, v) => {
    const q = quote(v);
    expect(q.startsWith("'") && q.endsWith("'"), q).toBe(true);
    expect(sysh(`printf %s ${q}`)).toBe(v);
  });

  it("quotes every printable character that is not a plain word character", () => {
    for (let c = 32; c < 127; c++) {
      const ch = String.fromCharCode(c);
      const plain = /[A-Za-z0-9_@%+=:,./-]/.test(ch);
      expect(quote(`a${ch}b`) === `a${ch}b`, JSON.stringify(ch)).toBe(plain);
      expect(quote(ch) === ch, JSON.stringify(ch)).toBe(plain);
    }
  });

  it("keeps a leading-dash value one word after a `--` (quotes cannot make it data; `--` does)", () => {
    for (const v of ["-rf", "--help", "-", "-n x"]) expect(sysh(sh`printf -- '[%s]' ${v}`)).toBe(`[${v}]`);
    expect(readdirSync(dir).sort()).toEqual(["-rf", "a.txt", "b.txt"]);
  });

  it("leaves plain words bare and single-quotes everything else", () => {
    expect(quote("/etc/ssh/sshd_config")).toBe("/etc/ssh/sshd_config");
    expect(quote("user@host:22,a=b+c%")).toBe("user@host:22,a=b+c%");
    expect(quote(644)).toBe("644");
    expect(quote("")).toBe("''");
    expect(quote("a b")).toBe("'a b'");
    expect(quote("it's")).toBe(`'it'"'"'s'`);
    expect(quote("~")).toBe("'~'");
    expect(quote("*")).toBe("'*'");
  });
});
