// `lab check`'s type check: the TypeScript compiler over the project's own files — the
// playbooks checked, every role and inventory vars file, and what they import — not
// everything its tsconfig.json includes (this repository's would add its tests).
// Incremental, in build mode (tsc -b): .lab/check/tsbuildinfo keeps what the last check
// proved; when no input changed the compiler parses nothing, else it checks again only the
// changed files and what depends on them (and reports a failed check's errors again).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export interface TypeCheck {
  ok: boolean;
  /** The compiler's diagnostics, `file(line,col): error TS...` relative to the project root. */
  output: string;
  /** The files checked by name (relative to the root); what they import is checked too. */
  files: string[];
}

/** Every *.ts under dir (none when it is missing), sorted. */
async function tsFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return names
    .filter((f) => f.endsWith(".ts") && !f.split("/").includes("node_modules"))
    .map((f) => join(dir, f))
    .sort();
}

export async function typeCheck(o: { root: string; inventory: string; playbooks: string[] }): Promise<TypeCheck> {
  const invDir = (await stat(o.inventory).catch(() => undefined))?.isDirectory() ? o.inventory : dirname(o.inventory);
  // A playbook that does not exist is reported by the load that follows (playbook not found).
  const files = [
    ...new Set([
      ...o.playbooks.filter((f) => existsSync(f)),
      ...(await tsFiles(join(o.root, "roles"))),
      ...(await tsFiles(invDir)),
    ]),
  ];
  if (files.length === 0) return { ok: true, output: "", files };
  const dir = join(o.root, ".lab", "check");
  await mkdir(dir, { recursive: true });
  // The project's compiler options (else lab's own), its files replaced by these.
  const own = join(o.root, "tsconfig.json");
  const config = {
    extends: existsSync(own) ? own : fileURLToPath(new URL("../../tsconfig.json", import.meta.url)),
    compilerOptions: { noEmit: true, incremental: true, tsBuildInfoFile: join(dir, "tsbuildinfo") },
    files,
    include: [],
  };
  // Rewritten only when it changes: a newer tsconfig makes the whole cache stale.
  const file = join(dir, "tsconfig.json");
  const text = `${JSON.stringify(config, null, 2)}\n`;
  if ((await readFile(file, "utf8").catch(() => "")) !== text) await writeFile(file, text);
  const tsc = createRequire(import.meta.url).resolve("typescript/lib/tsc.js");
  const r = await new Promise<{ code: number; out: string }>((done) => {
    execFile(
      process.execPath,
      [tsc, "--build", file, "--pretty", "false"],
      { cwd: o.root, maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, out: stdout + stderr }),
    );
  });
  return { ok: r.code === 0, output: r.out, files: files.map((f) => relative(o.root, f)) };
}
