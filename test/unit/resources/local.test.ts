// Resources against this machine (local transport, temp directory): real facts,
// real writes, applied twice. Hostile paths prove quoting end to end.
import { execFileSync } from "node:child_process";
import { chmod, chown, readFile, stat, writeFile, mkdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { runHostPlay } from "../../../src/engine/host-run.ts";
import type { StepResult } from "../../../src/engine/results.ts";
import type { Resource } from "../../../src/engine/types.ts";
import { command, guardFact } from "../../../src/resources/command.ts";
import { directory } from "../../../src/resources/directory.ts";
import { file } from "../../../src/resources/file.ts";
import { block, line } from "../../../src/resources/lines.ts";
import { pathFact } from "../../../src/resources/path-fact.ts";
import { Secret } from "../../../src/secrets/secret.ts";
import { LocalTransport } from "../../../src/transport/local.ts";
import { hostCtx } from "../helpers/host-ctx.ts";
import { tempDir } from "../helpers/temp.ts";

let dir = "";
beforeEach(async () => {
  dir = await tempDir("lab-res-");
});

/** Plan, apply, then apply again: returns the three runs' step statuses. */
async function converge(
  ...resources: Resource[]
): Promise<{ plan: StepResult[]; apply: StepResult[]; again: StepResult[] }> {
  const once = async (check: boolean) => {
    const results: StepResult[] = [];
    const ctx = hostCtx({ transport: new LocalTransport("local") });
    await runHostPlay(
      ctx,
      { host: "local", steps: resources.map((resource) => ({ resource, role: "t", tags: [] })), handlers: new Map() },
      { play: "p", check, onStep: (r) => results.push(r), onStart: () => undefined },
    );
    return results;
  };
  return { plan: await once(true), apply: await once(false), again: await once(false) };
}
const statuses = (rs: StepResult[]) => rs.map((r) => r.status);
const isRoot = process.getuid?.() === 0;

describe("file, directory, line, block on this machine", () => {
  it("create, then nothing to do", async () => {
    const r = await converge(
      directory({ path: join(dir, "etc/app"), mode: "0750" }),
      file({ path: join(dir, "etc/app/app.conf"), content: "a=1\n", mode: "0640" }),
      line({ path: join(dir, "etc/app/hosts"), line: "10.0.0.1 db", create: true }),
      block({ path: join(dir, "etc/app/hosts"), block: "10.0.0.2 nas" }),
    );
    // The block's file does not exist until the line creates it: known only after apply.
    expect(statuses(r.plan)).toEqual(["changed", "changed", "changed", "changed"]);
    expect(r.plan[3]!.changes).toEqual([
      {
        key: "known-after-apply",
        summary: `known after apply: depends on ${join(dir, "etc/app/hosts")}, which line:${join(dir, "etc/app/hosts")}:10.0.0.1 db changes first`,
      },
    ]);
    expect(statuses(r.apply)).toEqual(["changed", "changed", "changed", "changed"]);
    expect(statuses(r.again)).toEqual(["ok", "ok", "ok", "ok"]);
    expect((await stat(join(dir, "etc/app"))).mode & 0o7777).toBe(0o750);
    expect((await stat(join(dir, "etc/app/app.conf"))).mode & 0o7777).toBe(0o640);
    expect(await readFile(join(dir, "etc/app/hosts"), "utf8")).toBe(
      "10.0.0.1 db\n# BEGIN MANAGED BY lab\n10.0.0.2 nas\n# END MANAGED BY lab\n",
    );
  });

  it("keeps the mode of an existing file when its content changes", async () => {
    const p = join(dir, "script.sh");
    await writeFile(p, "old");
    await chmod(p, 0o750);
    const r = await converge(file({ path: p, content: "#!/bin/sh\n" }));
    expect(statuses(r.apply)).toEqual(["changed"]);
    expect((await stat(p)).mode & 0o7777).toBe(0o750);
  });

  it.runIf(isRoot)("keeps the owner and group of a file it rewrites (file, line, block)", async () => {
    const paths = ["f", "l", "b"].map((n) => join(dir, n));
    for (const p of paths) {
      await writeFile(p, "user content\n");
      await chown(p, 65534, 65534);
    }
    const r = await converge(
      file({ path: paths[0]!, content: "managed\n" }),
      line({ path: paths[1]!, line: "managed" }),
      block({ path: paths[2]!, block: "managed" }),
    );
    expect(statuses(r.apply)).toEqual(["changed", "changed", "changed"]);
    expect(statuses(r.again)).toEqual(["ok", "ok", "ok"]);
    for (const p of paths) expect((await stat(p)).uid).toBe(65534);
    for (const p of paths) expect((await stat(p)).gid).toBe(65534);
  });

  it("refuses to edit a file too large to read back, and leaves it intact", async () => {
    const p = join(dir, "big.log");
    const big = "x".repeat(300 * 1024);
    await writeFile(p, big);
    const r = await converge(line({ path: p, line: "appended" }));
    expect(r.apply[0]).toMatchObject({ status: "failed" });
    expect(r.apply[0]!.reason).toContain("too large");
    expect(await readFile(p, "utf8")).toBe(big);
  });

  it("refuses to edit a file that is not UTF-8, and leaves it intact", async () => {
    const p = join(dir, "latin1.conf");
    const bytes = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]);
    await writeFile(p, bytes);
    const r = await converge(line({ path: p, line: "x" }));
    expect(r.apply[0]!.status).toBe("failed");
    expect(await readFile(p)).toEqual(bytes);
  });

  it("writes secret content exactly, 0600 when new, and never shows it", async () => {
    const s = new Secret("api-key", "key-'$(touch pwned)'-\n-line2");
    const p = join(dir, "api.key");
    const r = await converge(file({ path: p, content: s }));
    expect(await readFile(p, "utf8")).toBe(s.reveal());
    expect((await stat(p)).mode & 0o7777).toBe(0o600);
    expect(statuses(r.again)).toEqual(["ok"]);
    expect(JSON.stringify(r)).not.toContain("key-'");
    expect(existsSync(join(dir, "pwned"))).toBe(false);
  });

  it("handles hostile paths: spaces, quotes, $(...), backticks, leading dash, glob characters", async () => {
    const names = ["with space", "it's", "$(touch PWNED)", "`touch PWNED`", "-rf", "*", "a;b", "new\nline"];
    const resources = names.flatMap((n) => [
      directory({ path: join(dir, `d ${n}`) }),
      file({ path: join(dir, `d ${n}`, n), content: `content of ${n}\n` }),
    ]);
    const r = await converge(...resources);
    expect(statuses(r.apply).every((s) => s === "changed")).toBe(true);
    expect(statuses(r.again).every((s) => s === "ok")).toBe(true);
    for (const n of names) expect(await readFile(join(dir, `d ${n}`, n), "utf8")).toBe(`content of ${n}\n`);
    expect(execFileSync("find", [dir, "-name", "PWNED"], { encoding: "utf8" })).toBe("");
  });

  it("removes a file and a directory tree (state absent)", async () => {
    await mkdir(join(dir, "old/sub"), { recursive: true });
    await writeFile(join(dir, "old/sub/x"), "x");
    await writeFile(join(dir, "gone.txt"), "x");
    const r = await converge(
      directory({ path: join(dir, "old"), state: "absent" }),
      file({ path: join(dir, "gone.txt"), state: "absent" }),
    );
    expect(statuses(r.apply)).toEqual(["changed", "changed"]);
    expect(statuses(r.again)).toEqual(["ok", "ok"]);
    expect(existsSync(join(dir, "old"))).toBe(false);
    expect(existsSync(join(dir, "gone.txt"))).toBe(false);
  });
});

describe("command and its guard on this machine", () => {
  it("runs once (creates), then the guard says why not", async () => {
    const marker = join(dir, "done it");
    const r = await converge(command({ command: `echo ran >> '${dir}/log'; touch '${marker}'`, creates: marker }));
    expect(statuses(r.apply)).toEqual(["changed"]);
    expect(r.again[0]).toMatchObject({ status: "ok", reason: `creates: ${marker} exists` });
    expect(await readFile(join(dir, "log"), "utf8")).toBe("ran\n");
  });

  it("a command that does not satisfy its own guard is reported failed (it would run on every apply)", async () => {
    const r = await converge(command({ command: "true", creates: join(dir, "never-created") }));
    expect(r.apply[0]!.status).toBe("failed");
    expect(r.apply[0]!.reason).toContain("did not converge");
  });

  it("guard facts through a real sh: creates, removes, unless", async () => {
    const ctx = hostCtx({ transport: new LocalTransport("local") });
    const there = join(dir, "there $(x)");
    await writeFile(there, "");
    const cases: [Parameters<typeof guardFact>[0], object][] = [
      [{ command: "x", creates: there }, { skip: `creates: ${there} exists` }],
      [{ command: "x", creates: join(dir, "missing") }, {}],
      [{ command: "x", removes: join(dir, "missing") }, { skip: `removes: ${join(dir, "missing")} is absent` }],
      [{ command: "x", removes: there }, {}],
      [{ command: "x", unless: "true" }, { skip: "unless: check passed" }],
      [{ command: "x", unless: "echo noise; false" }, {}],
      [{ command: "x", creates: join(dir, "missing"), unless: `test -e '${there}'` }, { skip: "unless: check passed" }],
    ];
    await ctx.facts.prefetch(cases.map(([w]) => guardFact(w)));
    expect(ctx.facts.roundTrips).toBe(1);
    for (const [w, want] of cases) expect(await ctx.facts.get(guardFact(w))).toEqual(want);
  });

  it("the path fact through a real sh matches what node sees", async () => {
    const p = join(dir, "f.txt");
    await writeFile(p, "héllo\n");
    await chmod(p, 0o604);
    const ctx = hostCtx({ transport: new LocalTransport("local") });
    const st = await ctx.facts.get(pathFact(p));
    expect(st).toMatchObject({ kind: "file", mode: "0604", size: 7, content: "héllo\n" });
    expect(await ctx.facts.get(pathFact(dir))).toMatchObject({ kind: "dir", mode: "0700" });
    expect(await ctx.facts.get(pathFact(join(dir, "nope")))).toEqual({ kind: "absent" });
  });
});
