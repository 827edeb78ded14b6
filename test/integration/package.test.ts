// lab as an installed package (own host: 127.0.49.x, container lab-pkg-*): `npm pack` of this
// repository, installed from the tarball into a fresh folder (the machine's npm config and cache,
// --prefer-offline, bounded in time), `lab init`, then that same install moved in as the
// scaffold's node_modules, then `lab check`, the editor's view (`tsc -p`), and plan/apply/plan
// against a real test host. The tarball holds what runtime needs and no tests, keys or state.
// One install, not two: `npm install ./lab-X.tgz` in the scaffold would install the same files
// from the same tarball (it rewrites the scaffold's "lab" range, so it proves nothing of it).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHosts, type TestLab } from "../hosts/hosts.ts";
import { REPO, type LabRun } from "./project.ts";

/** Bound of each npm step (from the cache on a busy 2-core machine: ~1-2 min). */
const NPM_TIMEOUT_MS = 240_000;

function run(cmd: string, args: string[], cwd: string, timeout = 300_000): Promise<LabRun & { ms: number }> {
  const t0 = Date.now();
  return new Promise((done) => {
    execFile(
      cmd,
      args,
      { cwd, timeout, maxBuffer: 32 << 20, env: { ...process.env, NO_COLOR: "1" } },
      (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr, ms: Date.now() - t0 }),
    );
  });
}
const npm = (args: string[], cwd: string) =>
  run("npm", [...args, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], cwd, NPM_TIMEOUT_MS);

let lab: TestLab;
let tmp: string;
let tarball: string;
let site: string;
const timings: string[] = [];
const labIn = (dir: string, args: string[]) => run(join(dir, "node_modules/.bin/lab"), args, dir);

beforeAll(async () => {
  lab = await startHosts({ prefix: "lab-pkg", names: ["pkg1"], subnet: "127.0.49", stateDir: ".lab/lab-pkg" });
  tmp = await mkdtemp(join(tmpdir(), "lab-pkg-"));
  const pack = await run("npm", ["pack", "--json", "--pack-destination", tmp], REPO, NPM_TIMEOUT_MS);
  expect(pack.code, pack.stderr).toBe(0);
  timings.push(`npm pack ${pack.ms} ms`);
  tarball = join(tmp, (JSON.parse(pack.stdout.slice(pack.stdout.indexOf("["))) as { filename: string }[])[0]!.filename);
}, 600_000);

afterAll(async () => {
  console.log(`package test: ${timings.join(", ")}`);
  if (process.env.LAB_KEEP_HOSTS !== "1") await lab?.stop();
});

describe("lab as an installed package", () => {
  it("the tarball holds bin, dist, the typed sources and schemas; no tests, keys, state or the example lab", async () => {
    const list = (await run("tar", ["-tzf", tarball], tmp)).stdout.split("\n").map((f) => f.replace(/^package\//, ""));
    for (const f of ["bin/lab.mjs", "dist/index.js", "dist/cli/main.js", "src/index.ts", "inventory/schema.json"])
      expect(list).toContain(f);
    expect(list.some((f) => f.startsWith("dist/proxmox/") && f.endsWith(".json.gz"))).toBe(true);
    const unwanted = list.filter((f) =>
      /^(test|\.lab|roles|playbooks|scripts|images)\/|^inventory\/(?!schema\.json$)|lab\.config\.yaml|\.key$|(^|\/)id_|known_hosts/.test(
        f,
      ),
    );
    expect(unwanted).toEqual([]);
  });

  it("installs from the tarball, scaffolds a lab repository that checks, plans and applies", async () => {
    const tool = join(tmp, "tool");
    const install = await npm(["install", "--prefix", tool, tarball], tmp);
    expect(install.code, install.stderr).toBe(0);
    timings.push(`install ${install.ms} ms`);

    site = join(tmp, "my-lab");
    const init = await labIn(tool, ["init", site]);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain("created ");
    for (const f of ["package.json", "tsconfig.json", ".gitignore", "lab.config.yaml", "inventory/hosts.yaml"])
      expect(existsSync(join(site, f)), f).toBe(true);
    for (const d of ["roles", "templates", "backups"]) expect(existsSync(join(site, d)), d).toBe(true);
    expect(await readFile(join(site, "playbooks/site.ts"), "utf8")).toMatch(/from "lab";/);
    const ignore = await readFile(join(site, ".gitignore"), "utf8");
    for (const l of [".lab/", "*.key", "age.key", "id_*"]) expect(ignore).toContain(l);
    // Refuses a folder with files in it: nothing is overwritten.
    expect((await labIn(tool, ["init", site])).code).toBe(2);

    // The scaffold's own dependency on lab: the install above (from the tarball; the registry's
    // "lab" is another package), moved in whole. Its range admits the version installed.
    const installed = JSON.parse(await readFile(join(tool, "node_modules/lab/package.json"), "utf8")) as {
      version: string;
    };
    const wanted = JSON.parse(await readFile(join(site, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(wanted.dependencies).toEqual({ lab: `^${installed.version}` });
    await rename(join(tool, "node_modules"), join(site, "node_modules"));
    const modeline = /\$schema=(\S+)/.exec(await readFile(join(site, "inventory/hosts.yaml"), "utf8"))![1]!;
    expect(existsSync(join(site, "inventory", modeline)), modeline).toBe(true);

    const check = await labIn(site, ["check"]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toContain("types: ok (playbooks/site.ts, roles/motd.ts and what they import)");
    expect(check.stdout).toContain("playbooks/site.ts: ok (1 play(s), 1 step(s))");
    // The editor's view: the project's own tsconfig, "lab" resolved through the package's exports.
    const tsc = await run(process.execPath, [join(site, "node_modules/typescript/lib/tsc.js"), "-p", "."], site);
    expect(tsc.code, tsc.stdout).toBe(0);
    // A type error in a role is caught, named by file(line,col); the cache does not hide it.
    const role = join(site, "roles/motd.ts");
    const good = await readFile(role, "utf8");
    const broken = good.replace("`${v.text}\\n`", "v.text.length");
    expect(broken).not.toBe(good);
    await writeFile(role, broken);
    const bad = await labIn(site, ["check"]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/roles\/motd\.ts\(\d+,\d+\): error TS/);
    expect(bad.stdout).not.toContain("types: ok");
    await writeFile(role, good);

    const h = lab.hosts[0]!;
    await writeFile(
      join(site, "inventory/hosts.yaml"),
      `connection: { user: root, key_file: ${lab.keyFile}, known_hosts: ${lab.knownHostsFile} }
groups:
  servers:
    hosts: [pkg1]
hosts:
  pkg1: { address: ${h.address}, port: ${h.port} }
`,
    );
    const plan = await labIn(site, ["plan"]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout).toContain("/etc/motd");
    // Without a terminal, apply asks for --yes once lab has a confirmation prompt (saved plans).
    const yes = (await labIn(site, ["apply", "--help"])).stdout.includes("--yes") ? ["--yes"] : [];
    const apply = await labIn(site, ["apply", ...yes]);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    const again = await labIn(site, ["apply", ...yes, "--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { hosts: Record<string, { changed: number }> }).hosts.pkg1!.changed).toBe(0);
    const after = await labIn(site, ["plan", "--detailed-exitcode"]);
    expect(after.code, after.stdout).toBe(0);
  }, 1_500_000);
});
