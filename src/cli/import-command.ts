// `lab import ansible INVENTORY [-o inventory/]`: convert an Ansible inventory
// into a lab inventory file and list what could not be converted.
import { copyFile, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, extname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { badInput, ExitCode, LabError } from "../errors.ts";
import { loadInventory } from "../inventory/inventory.ts";
import { convertInventory } from "../import/convert.ts";
import { loadAnsibleInventory } from "../import/load.ts";
import { formatReport } from "../import/report.ts";

const SCHEMA = fileURLToPath(new URL("../../inventory/schema.json", import.meta.url));

export interface ImportOptions {
  root: string;
  /** The Ansible inventory (file or folder). */
  source: string;
  /** Output folder (the file is hosts.yaml in it) or a .yaml file. */
  out: string;
  force: boolean;
  stdout: NodeJS.WritableStream;
}

export async function importAnsible(o: ImportOptions): Promise<ExitCode> {
  const loaded = await loadAnsibleInventory(o.source);
  const shown = rel(o.root, o.source);
  const converted = await convertInventory(loaded.inv, loaded.files, { source: shown, root: o.root });
  const file = /\.ya?ml$/.test(extname(o.out)) ? o.out : join(o.out, "hosts.yaml");
  if (
    !o.force &&
    (await stat(file).then(
      () => true,
      () => false,
    ))
  ) {
    throw badInput(`${file} already exists`, { file }, "pass -o with another folder or file, or --force to replace it");
  }
  await checkWithNeighbours(file, converted.text, o.root);
  await mkdir(dirname(file), { recursive: true });
  // Old file or new file, never half of one.
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  await writeFile(tmp, converted.text, { mode: 0o644 });
  await rename(tmp, file);
  const schema = join(dirname(file), "schema.json");
  if (
    !(await stat(schema).then(
      () => true,
      () => false,
    ))
  )
    await copyFile(SCHEMA, schema);

  const groups = Object.keys(converted.data.groups ?? {}).length;
  const hosts = Object.keys(converted.data.hosts ?? {}).length;
  const summary = `lab import ansible: ${shown} -> ${rel(o.root, file)}: ${hosts} host(s), ${groups} group(s); check it with: lab -i ${rel(o.root, file)} check`;
  const items = [...loaded.report, ...converted.report].map((i) =>
    i.where ? { ...i, where: { ...i.where, file: rel(o.root, i.where.file) } } : i,
  );
  o.stdout.write(formatReport(items, summary));
  return ExitCode.ok;
}

/** A path as the user would type it from the project root. */
const rel = (root: string, p: string) => {
  const r = relative(root, p);
  return r === "" ? "." : r.startsWith("..") ? p : r;
};

/** The folder's other inventory files and the new one must load together (no host or group twice). */
async function checkWithNeighbours(file: string, text: string, root: string): Promise<void> {
  const dir = dirname(file);
  const others = await readdir(dir).then(
    (n) => n.filter((f) => /\.ya?ml$/.test(f) && join(dir, f) !== file),
    () => [],
  );
  if (others.length === 0) return;
  const tmp = await mkdtemp(join(tmpdir(), "lab-import-"));
  try {
    for (const f of others) await copyFile(join(dir, f), join(tmp, f));
    await writeFile(join(tmp, basename(file)), text);
    await loadInventory({ path: tmp, root }).catch((e: unknown) => {
      if (!(e instanceof LabError)) throw e;
      throw badInput(
        `the converted inventory conflicts with ${others.join(", ")} in ${dir}: ${e.message.replaceAll(tmp, dir)}`,
        { file },
        "write it to another folder (-o), or remove what both define",
      );
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
