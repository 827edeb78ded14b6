// Read an Ansible inventory the way `ansible-inventory -i PATH` does: a file
// (YAML tried first when its name allows, then INI), or a folder of them (sorted,
// skipping what Ansible skips), plus group_vars/ and host_vars/ next to it.
// Dynamic sources (plugin configs, executable scripts) are reported, not run.
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, extname, join } from "node:path";
import { badInput, LabError } from "../errors.ts";
import { AnsibleInventory, type Origin } from "./ansible-model.ts";
import { parseIni } from "./ini.ts";
import type { VarsFiles } from "./precedence.ts";
import type { ReportItem } from "./report.ts";
import { varsFilesFor, varsNames, type VarsFile } from "./vars-dirs.ts";
import { parseYamlInventory, pluginName, readAnsibleYaml } from "./yaml.ts";

const YAML_EXTS = ["", ".yml", ".yaml", ".json"];
// INVENTORY_IGNORE_EXTS and the always-ignored names (inventory/manager.py).
const IGNORED =
  /^\.|^host_vars$|^group_vars$|^vars_plugins$|(\.pyc|\.pyo|\.swp|\.bak|~|\.rpm|\.md|\.txt|\.rst|\.orig|\.ini|\.cfg|\.retry)$/;

export interface LoadedAnsible {
  inv: AnsibleInventory;
  files: VarsFiles;
  report: ReportItem[];
  /** Static sources read. */
  sources: string[];
}

export async function loadAnsibleInventory(path: string): Promise<LoadedAnsible> {
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw badInput(
      `cannot read ${path}: ${e.code ?? String(e)}`,
      { file: path },
      "pass the Ansible inventory file or folder (what you give ansible -i)",
    );
  });
  const inv = new AnsibleInventory();
  const report: ReportItem[] = [];
  const sources: string[] = [];
  const warn = (where: Origin, message: string) =>
    report.push({ kind: "ignored", where, message, hint: "Ansible skips it too" });
  const files = st.isDirectory()
    ? await sourceFiles(path, (file) =>
        report.push({
          kind: "ignored",
          where: { file },
          message: "skipped: Ansible ignores files with this extension in an inventory folder (INVENTORY_IGNORE_EXTS)",
          hint: "rename it (no extension, .yml or .yaml) if it is meant to be part of the inventory",
        }),
      )
    : [path];
  for (const file of files) if (await parseSource(file, inv, report, warn)) sources.push(file);
  if (sources.length === 0) {
    const dyn = report.find((r) => r.kind === "dynamic");
    throw badInput(
      dyn ? `${path} is a dynamic inventory: ${dyn.message}` : `no inventory file in ${path}`,
      { file: path },
      dyn?.hint ?? "pass an INI or YAML inventory file, or a folder holding them",
    );
  }
  inv.reconcile();

  const basedir = st.isDirectory() ? path : dirname(path);
  const group = new Map<string, VarsFile[]>();
  const host = new Map<string, VarsFile[]>();
  for (const g of inv.groups.keys()) group.set(g, await varsFilesFor(basedir, "group_vars", g));
  for (const h of inv.hosts.keys()) host.set(h, await varsFilesFor(basedir, "host_vars", h));
  for (const [sub, known] of [
    ["group_vars", inv.groups],
    ["host_vars", inv.hosts],
  ] as const) {
    for (const [name, file] of await varsNames(basedir, sub)) {
      if (!known.has(name))
        report.push({
          kind: "ignored",
          where: { file },
          message: `${sub}/${name} names no ${sub === "group_vars" ? "group" : "host"} of the inventory`,
          hint: "Ansible ignores it too; remove it or fix the name",
        });
    }
  }
  return { inv, files: { group, host }, report, sources };
}

async function sourceFiles(dir: string, skipped: (file: string) => void): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    if (IGNORED.test(name)) {
      if (!/^\.|^(host_vars|group_vars|vars_plugins)$/.test(name)) skipped(join(dir, name));
      continue;
    }
    const p = join(dir, name);
    if ((await stat(p)).isDirectory()) out.push(...(await sourceFiles(p, skipped)));
    else out.push(p);
  }
  return out;
}

/** Parse one file into inv; false when it is dynamic (reported) rather than static. */
async function parseSource(
  file: string,
  inv: AnsibleInventory,
  report: ReportItem[],
  warn: (o: Origin, m: string) => void,
): Promise<boolean> {
  let text: string;
  let mode: number;
  try {
    text = await readFile(file, "utf8");
    mode = (await stat(file)).mode;
  } catch (e) {
    throw badInput(
      `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      { file },
      "check the path and the file's permissions",
    );
  }
  const redo =
    `run it through Ansible once and import the static result:\n  ansible-inventory -i ${file} --list --yaml > static.yml && lab import ansible static.yml\n` +
    "Proxmox guests are better declared under vms: in lab (their address comes from the guest agent)";
  if (mode & 0o111 && text.startsWith("#!")) {
    report.push({
      kind: "dynamic",
      where: { file },
      message: "an executable inventory script: lab has no dynamic inventory",
      hint: redo,
    });
    return false;
  }
  const ext = extname(file);
  let yamlError: LabError | undefined;
  if (YAML_EXTS.includes(ext)) {
    try {
      const y = readAnsibleYaml(file, text);
      const plugin = pluginName(y);
      if (plugin) {
        report.push({
          kind: "dynamic",
          where: { file, line: 1 },
          message: `inventory plugin ${plugin}: lab has no dynamic inventory`,
          hint: redo,
        });
        return false;
      }
      parseYamlInventory(file, y, inv, warn);
      return true;
    } catch (e) {
      if (!(e instanceof LabError)) throw e;
      yamlError = e;
      if (ext) throw e; // .yml/.yaml/.json: YAML or nothing
    }
  }
  try {
    parseIni(file, text, inv);
  } catch (e) {
    if (!(e instanceof LabError) || !yamlError) throw e;
    throw new LabError(
      e.message,
      e.code,
      e.where,
      `${e.hint ?? ""} (it is not a YAML inventory either: ${yamlError.message})`,
    );
  }
  return true;
}
