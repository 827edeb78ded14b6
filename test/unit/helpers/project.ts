// A throwaway lab project (package.json, inventory, playbooks) whose playbooks
// import the engine from this repository by absolute path, and a way to run it
// with run() and record what the reporter saw.
import { lstat, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { run, type Reporter, type RunOptions, type RunResult } from "../../../src/engine/runner.ts";
import type { StepResult } from "../../../src/engine/results.ts";
import { tempDir } from "./temp.ts";

/** src/index.ts of this repository, for `import ... from ${LAB}` in playbooks. */
export const LAB = JSON.stringify(resolve(import.meta.dirname, "../../../src/index.ts"));

export async function makeProject(files: Record<string, string>): Promise<string> {
  const root = await tempDir("lab-project-");
  await writeFile(join(root, "package.json"), JSON.stringify({ type: "module" }));
  await writeProjectFiles(root, files);
  return root;
}

export async function writeProjectFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
}

export interface LabRun {
  result: RunResult;
  /** Step results as the reporter got them. */
  steps: StepResult[];
  plays: { play: string; hosts: string[] }[];
  logs: string[];
  /** "host status id" per step, in order (for compact assertions). */
  lines: string[];
}

export async function runLab(root: string, opts: Partial<RunOptions> = {}): Promise<LabRun> {
  const steps: StepResult[] = [];
  const plays: { play: string; hosts: string[] }[] = [];
  const logs: string[] = [];
  const reporter: Reporter = {
    playStart: (play, hosts) => plays.push({ play, hosts }),
    stepStart: () => undefined,
    step: (r) => steps.push(r),
    playEnd: () => Promise.resolve(),
  };
  const result = await run({
    root,
    inventory: join(root, "inventory"),
    playbook: join(root, "playbooks", "site.ts"),
    check: false,
    forks: 4,
    signal: new AbortController().signal,
    reporter,
    log: { debug: (m) => logs.push(`debug: ${m}`), warn: (m) => logs.push(`warn: ${m}`) },
    ...opts,
  });
  return { result, steps, plays, logs, lines: steps.map((s) => `${s.host} ${s.status} ${s.id}`) };
}

/** Every path under dir with its type, mode, owner and content: to prove nothing changed. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const name of (await readdir(d)).sort()) {
      const p = join(d, name);
      const st = await lstat(p);
      const head = `${st.isDirectory() ? "dir" : "file"} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      out[relative(dir, p)] = st.isDirectory() ? head : `${head} ${await readFile(p, "utf8")}`;
      if (st.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out;
}
