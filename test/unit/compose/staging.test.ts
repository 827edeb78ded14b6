// Where a stack's files (secret env files among them) are staged: never under
// /tmp, always inside the stack's own 0700 directory, each file born 0600 and
// renamed into place. lab_unpack runs for real here, in this machine's sh.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { uploadCommand } from "../../../src/resources/compose/converge.ts";
import { probeInPlaceCommand, probeStagedCommand } from "../../../src/resources/compose/desired.ts";
import { UNPACK, bundle, stackFile } from "../../../src/resources/compose/files.ts";
import { Secret } from "../../../src/secrets/secret.ts";

const v2 = { kind: "v2", command: "docker compose", version: "2.24.5" } as const;
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function sh(script: string, stdin: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = execFile("sh", ["-c", script], (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout, stderr }),
    );
    c.stdin?.end(stdin);
  });
}

describe("compose staging", () => {
  it("no command stages anything under /tmp: the probe stages in the stack's directory, made 0700", () => {
    for (const cmd of [
      probeStagedCommand(v2, "wiki", "/opt/lab/stacks/wiki"),
      probeInPlaceCommand(v2, "wiki", "/opt/lab/stacks/wiki/rev-1"),
      uploadCommand("/opt/lab/stacks/wiki", "rev-1"),
    ]) {
      expect(cmd).not.toMatch(/\/tmp|mktemp(?! -d "\$D\/)/);
    }
    expect(probeStagedCommand(v2, "wiki", "/opt/lab/stacks/wiki")).toContain(
      `mkdir -p "$D" && chmod 0700 "$D" && T=$(mktemp -d "$D/.probe.XXXXXX")`,
    );
  });

  it("the probe leaves no directory behind that it had to create (a plan changes nothing), and keeps those that were there", async () => {
    const d = await mkdtemp(join(tmpdir(), "lab-probe-"));
    dirs.push(d);
    // Compose itself is not needed to see what the staging does: the probe stops at "cd" when told to.
    const staging = (stack: string) => probeStagedCommand(v2, "wiki", stack).split('\ncd "$T"')[0]!;
    await sh(staging(join(d, "root/stacks/wiki")), bundle([stackFile("app.env", new Secret("t", "TOKEN=x\n"))]));
    expect(await readdir(d)).toEqual([]);
    await mkdir(join(d, "root/stacks/wiki"), { recursive: true });
    await sh(staging(join(d, "root/stacks/wiki")), bundle([stackFile("app.env", new Secret("t", "TOKEN=x\n"))]));
    expect(await readdir(join(d, "root/stacks/wiki"))).toEqual([]);
  });

  it("lab_unpack: secret files 0600, others their mode, sub-directories 0755, nothing left under a temp name", async () => {
    const d = await mkdtemp(join(tmpdir(), "lab-unpack-"));
    dirs.push(d);
    const files = [
      stackFile("app.env", new Secret("t", "TOKEN=x\n")),
      stackFile("conf/prometheus.yml", "a: 1\n"),
      stackFile("compose.yaml", "services: {}\n"),
    ];
    await sh(`${UNPACK}\numask 022\nlab_unpack "$1"`.replace('"$1"', JSON.stringify(d)), bundle(files));
    const mode = async (p: string) => ((await stat(join(d, p))).mode & 0o777).toString(8);
    expect(await mode("app.env")).toBe("600");
    expect(await mode("conf/prometheus.yml")).toBe("644");
    expect(await mode("compose.yaml")).toBe("644");
    expect(await mode("conf")).toBe("755");
    expect((await readdir(d)).sort()).toEqual(["app.env", "compose.yaml", "conf"]);
  });

  it("lab_unpack creates each file 0600 (umask) before its mode is set: a secret is never readable by others", () => {
    expect(UNPACK).toMatch(
      /\(umask 077; printf '%s' "\$b" \| base64 -d > "\$1\/\.lab-tmp"\)[\s\S]*chmod "\$m" "\$1\/\.lab-tmp" && mv -f "\$1\/\.lab-tmp" "\$1\/\$n"/,
    );
  });
});
