// A throwaway project dir and key per test: no test touches ~/.config.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

export async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "lab-test-"));
  dirs.push(d);
  return d;
}

/** Options for a project at `root` whose key lives at root/home/age.key (never the real home). */
export const projectOpts = (root: string, env: NodeJS.ProcessEnv = {}) => ({
  root,
  home: join(root, "home"),
  env: { LAB_AGE_KEY_FILE: join(root, "home", "age.key"), ...env },
});
