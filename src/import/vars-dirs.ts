// group_vars/ and host_vars/ next to the inventory, found the way Ansible's
// host_group_vars plugin and DataLoader.find_vars_files find them: NAME (a file,
// or a folder read recursively in sorted order, skipping hidden and ~ files),
// else NAME.yml, NAME.yaml, NAME.json. Files are YAML (JSON is YAML).
import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { isMap } from "yaml";
import { badInput } from "../errors.ts";
import type { Origin } from "./ansible-model.ts";
import { readAnsibleYaml, varsOfMap } from "./yaml.ts";

const EXTENSIONS = ["", ".yml", ".yaml", ".json"];

export interface VarsFile {
  file: string;
  vars: Record<string, unknown>;
  origins: Record<string, Origin>;
  /** The whole file is encrypted with ansible-vault: its vars cannot be read. */
  vaulted?: true;
}

const kind = async (p: string) =>
  stat(p).then(
    (s) => (s.isDirectory() ? "dir" : s.isFile() ? "file" : undefined),
    () => undefined,
  );

/** The vars files for one group or host (`sub` is "group_vars" or "host_vars"), in load order. */
export async function varsFilesFor(
  basedir: string,
  sub: "group_vars" | "host_vars",
  name: string,
): Promise<VarsFile[]> {
  const dir = join(basedir, sub);
  if ((await kind(dir)) !== "dir" || name.startsWith("/")) return [];
  for (const ext of EXTENSIONS) {
    const p = join(dir, name + ext);
    const k = await kind(p);
    if (k === "dir") return Promise.all((await dirFiles(p)).map(readVarsFile));
    if (k === "file") return [await readVarsFile(p)];
  }
  return [];
}

/** Names with vars files under basedir/sub (to report files that match no group or host). */
export async function varsNames(basedir: string, sub: "group_vars" | "host_vars"): Promise<Map<string, string>> {
  const dir = join(basedir, sub);
  const out = new Map<string, string>();
  if ((await kind(dir)) !== "dir") return out;
  for (const n of (await readdir(dir)).sort()) {
    if (n.startsWith(".") || n.endsWith("~")) continue;
    const ext = extname(n);
    const k = await kind(join(dir, n));
    if (k === "dir" || !ext) out.set(n, join(dir, n));
    else if (EXTENSIONS.includes(ext)) out.set(n.slice(0, -ext.length), join(dir, n));
  }
  return out;
}

async function dirFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const n of (await readdir(dir)).sort()) {
    if (n.startsWith(".") || n.endsWith("~")) continue;
    const p = join(dir, n);
    const ext = extname(n);
    const k = await kind(p);
    if (k === "dir" && !ext) out.push(...(await dirFiles(p)));
    else if (k === "file" && (!ext || EXTENSIONS.includes(ext))) out.push(p);
  }
  return out;
}

async function readVarsFile(file: string): Promise<VarsFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw badInput(
      `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      { file },
      "check the file's permissions",
    );
  }
  if (text.startsWith("$ANSIBLE_VAULT;")) return { file, vars: {}, origins: {}, vaulted: true };
  const y = readAnsibleYaml(file, text);
  const root = y.doc.contents;
  if (root === null || y.value(root) === null) return { file, vars: {}, origins: {} }; // empty files are ignored
  if (!isMap(root))
    throw badInput(
      `vars file must be a mapping of var names to values`,
      { file, ...(y.line(root) ? { line: y.line(root) } : {}) },
      "write name: value pairs at the top level",
    );
  const vars: Record<string, unknown> = {};
  const origins: Record<string, Origin> = {};
  for (const [k, v, o] of varsOfMap(y, file, root, { file })) {
    vars[k] = v;
    origins[k] = o;
  }
  return { file, vars, origins };
}
