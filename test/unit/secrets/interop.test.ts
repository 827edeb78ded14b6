// Interop with the `age` CLI (Debian package `age`, installed by scripts/ensure-deps.sh).
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { initSecrets } from "../../../src/secrets/init.ts";
import { loadSecrets } from "../../../src/secrets/store.ts";
import { projectOpts, tempDir } from "./helpers.ts";

describe("age CLI interop", () => {
  it("has the age CLI (scripts/ensure-deps.sh installs it)", () => {
    expect(spawnSync("age", ["--version"]).status).toBe(0);
  });

  it("age -d decrypts what lab wrote, with lab's key file", async () => {
    const root = await tempDir();
    const opts = projectOpts(root);
    await initSecrets(opts);
    const s = await loadSecrets(opts);
    s.set("pw", "written-by-lab");
    await s.save();
    const plain = execFileSync("age", ["-d", "-i", opts.env.LAB_AGE_KEY_FILE, join(root, "secrets.age")], {
      encoding: "utf8",
    });
    expect(plain).toContain("pw: written-by-lab");
  });

  it("lab reads what age -e wrote (binary)", async () => {
    const root = await tempDir();
    const opts = projectOpts(root);
    await initSecrets(opts);
    execFileSync("age", ["-R", join(root, ".age-recipients"), "-o", join(root, "secrets.age")], {
      input: "x: written-by-age\n",
    });
    expect((await loadSecrets(opts)).get("x").reveal()).toBe("written-by-age");
  });
});
