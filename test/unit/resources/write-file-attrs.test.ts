// Owner, group and mode of written files, through a real sh on this machine (the
// tests run as root, so chown to nobody/nogroup is real): a staged write sets them
// on the temp file before the rename, setAttrs changes an existing file, and a
// rewrite keeps the owner and group the file had.
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { LabError } from "../../../src/errors.ts";
import { currentOwner, setAttrs, writeFileAtomic } from "../../../src/resources/write-file.ts";
import { LocalTransport } from "../../../src/transport/local.ts";
import { FakeTransport } from "../helpers/fake-transport.ts";
import { hostCtx } from "../helpers/host-ctx.ts";
import { tempDir } from "../helpers/temp.ts";

const root = process.getuid?.() === 0;
const NOBODY = 65534;
let dir = "";
let target = "";
const ctx = () => hostCtx({ transport: new LocalTransport("local") });
const owner = async (p: string) => {
  const s = await stat(p);
  return { uid: s.uid, gid: s.gid, mode: s.mode & 0o7777 };
};

beforeEach(async () => {
  dir = await tempDir("lab-attrs-");
  // A path sh would split, expand and glob if it were not quoted.
  await mkdir(join(dir, "a dir $HOME *"));
  target = join(dir, "a dir $HOME *", "it's.conf");
  await writeFile(target, "old\n", { mode: 0o644 });
});

describe.runIf(root)("writeFileAtomic sets owner and group before the rename", () => {
  it.each([
    ["owner and group", { owner: "nobody", group: "nogroup" }, { uid: NOBODY, gid: NOBODY }],
    ["owner only (group left as the login user's)", { owner: "nobody" }, { uid: NOBODY, gid: 0 }],
    ["group only", { group: "nogroup" }, { uid: 0, gid: NOBODY }],
    ["neither", {}, { uid: 0, gid: 0 }],
  ] as const)("%s", async (_name, who, want) => {
    await writeFileAtomic(ctx(), target, "new\n", { mode: "0640", ...who });
    expect(await readFile(target, "utf8")).toBe("new\n");
    expect(await owner(target)).toEqual({ ...want, mode: 0o640 });
  });

  it("an unknown owner fails the write and leaves the old file (and no temp file)", async () => {
    const e = await writeFileAtomic(ctx(), target, "new\n", { mode: "0600", owner: "no-such-user-lab" }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(LabError);
    expect((e as LabError).message).toContain(`write ${target} failed`);
    expect(await readFile(target, "utf8")).toBe("old\n");
    expect(await readdir(join(dir, "a dir $HOME *"))).toEqual(["it's.conf"]);
  });
});

describe("writeFileAtomic of an empty file", () => {
  it("replaces the content with nothing (size 0 is a size to check, not a missing one)", async () => {
    await writeFileAtomic(ctx(), target, "", { mode: "0644" });
    expect(await readFile(target, "utf8")).toBe("");
  });
});

describe.runIf(root)("setAttrs", () => {
  it.each([
    ["mode only", { mode: "0600" }, { uid: 0, gid: 0, mode: 0o600 }],
    ["owner only", { owner: "nobody" }, { uid: NOBODY, gid: 0, mode: 0o644 }],
    ["group only", { group: "nogroup" }, { uid: 0, gid: NOBODY, mode: 0o644 }],
    ["all three", { mode: "0755", owner: "nobody", group: "nogroup" }, { uid: NOBODY, gid: NOBODY, mode: 0o755 }],
  ] as const)("%s", async (_name, attrs, want) => {
    await setAttrs(ctx(), target, attrs);
    expect(await owner(target)).toEqual(want);
    expect(await readFile(target, "utf8")).toBe("old\n");
  });

  it("a failure names the file", async () => {
    const e = await setAttrs(ctx(), join(dir, "missing"), { mode: "0600" }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LabError);
    expect((e as LabError).message).toContain(`set mode/owner of ${join(dir, "missing")} failed`);
  });
});

describe("setAttrs with nothing to set", () => {
  it("sends no command at all", async () => {
    const t = new FakeTransport(); // throws on any command
    await setAttrs(hostCtx({ transport: t }), "/etc/x", {});
    expect(t.calls).toEqual([]);
  });
});

describe("currentOwner", () => {
  it("keeps the owner and group a file has; a directory, link or absent path gives none", () => {
    expect(currentOwner({ kind: "file", mode: "0644", owner: "www-data", group: "adm" })).toEqual({
      owner: "www-data",
      group: "adm",
    });
    expect(currentOwner({ kind: "file", owner: "www-data" })).toEqual({ owner: "www-data" });
    expect(currentOwner({ kind: "file", group: "adm" })).toEqual({ group: "adm" });
    expect(currentOwner({ kind: "file" })).toEqual({});
    expect(currentOwner({ kind: "dir", owner: "www-data", group: "adm" })).toEqual({});
    expect(currentOwner({ kind: "absent" })).toEqual({});
  });
});
