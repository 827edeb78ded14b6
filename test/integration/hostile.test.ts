// Hostile values (spaces, quotes, $(...), backticks, newlines, globs; no "/", which
// can never be part of a file name) in file
// names, contents and vars reach the host as data, never as shell.
import { beforeAll, expect, inject, it } from "vitest";
import type { TestLabData } from "../hosts/hosts.ts";
import { changedCount, inHost, makeProject, type TestProject } from "./project.ts";

const NASTY = [
  "with space",
  "quote'single",
  'quote"double',
  "$(cd;touch pwned-subst)",
  "`cd;touch pwned-tick`",
  "semi;cd;touch pwned-semi",
  "new\nline",
  "glob*?[a]",
  "-leading-dash",
  "back\\slash $HOME",
];

let lab: TestLabData;
let p: TestProject;
beforeAll(async () => {
  lab = inject("testLab");
  p = await makeProject(lab, {
    vars: { nasty: NASTY },
    files: {
      "playbooks/hostile.ts": `
import { definePlaybook, inline, directory, file, line, command, sh } from "@lab";
export default definePlaybook({
  name: "hostile",
  plays: [{
    name: "hostile", hosts: "web1",
    roles: (h) => {
      const nasty = h.vars.nasty as string[];
      return [inline([
        directory({ path: "/srv/hostile" }),
        ...nasty.map((n, i) => file({ path: "/srv/hostile/" + n, content: "value " + i + ": " + n + "\\n" })),
        line({ path: "/srv/hostile/lines", line: nasty.join(" | ").replaceAll("\\n", " "), create: true }),
        command({ command: sh\`printf '%s' \${nasty[3]} > /srv/hostile/cmd-out\`, creates: "/srv/hostile/cmd-out" }),
      ])];
    },
  }],
});
`,
    },
  });
  const web1 = lab.hosts.find((h) => h.name === "web1")!;
  await inHost(web1.container, "rm -rf /srv/hostile /tmp/pwned-* /root/pwned-*");
});

it("writes every hostile name and value byte for byte, executes none of them, and is idempotent", async () => {
  const first = await p.applyJson(["playbooks/hostile.ts"]);
  expect(first.run.code, first.run.stderr + first.run.stdout).toBe(0);
  const web1 = lab.hosts.find((h) => h.name === "web1")!;
  // List names NUL-separated so newlines in names survive.
  const ls = await inHost(web1.container, "cd /srv/hostile && find . -maxdepth 1 -type f -print0");
  const names = ls.stdout
    .split("\0")
    .filter(Boolean)
    .map((n) => n.slice(2))
    .sort();
  expect(names).toEqual([...NASTY, "lines", "cmd-out"].sort());
  for (const [i, n] of NASTY.entries()) {
    const b64 = Buffer.from(n).toString("base64");
    const content = await inHost(web1.container, `cat -- "/srv/hostile/$(echo ${b64} | base64 -d)"`);
    expect(content.stdout).toBe(`value ${i}: ${n}\n`);
  }
  expect((await inHost(web1.container, "cat /srv/hostile/cmd-out")).stdout).toBe("$(cd;touch pwned-subst)");
  expect((await inHost(web1.container, "ls /tmp /root | grep -c pwned || true")).stdout.trim()).toBe("0");

  const second = await p.applyJson(["playbooks/hostile.ts"]);
  expect(changedCount(second.report)).toBe(0);
});
