// `lab init DIR`: scaffold a lab repository (src/init/scaffold.ts). Refuses a folder that
// already holds files (nothing is overwritten); the folder may exist empty.
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ExitCode, badInput } from "../errors.ts";
import { scaffoldFiles } from "../init/scaffold.ts";

/** `shown`: the folder as the user wrote it (for the next steps printed). */
export async function initCommand(o: { dir: string; shown: string; out: NodeJS.WritableStream }): Promise<ExitCode> {
  const present = existsSync(o.dir) ? await readdir(o.dir) : [];
  if (present.length)
    throw badInput(
      `${o.dir} is not empty (${present.slice(0, 3).join(", ")}${present.length > 3 ? ", ..." : ""})`,
      { file: o.dir },
      "pass a new or empty folder: lab init writes package.json, inventory/, playbooks/, ... and overwrites nothing",
    );
  const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  const files = scaffoldFiles(version);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(o.dir, path)), { recursive: true });
    await writeFile(join(o.dir, path), text, { flag: "wx" });
  }
  const shown = o.shown.replace(/\/+$/, "") || ".";
  o.out.write(
    `created ${shown}/: ${Object.keys(files).join(", ")}\n` +
      `next: cd ${shown} && npm install && npx lab check\n` +
      `then put your hosts in inventory/hosts.yaml (group servers), \`npx lab hosts trust NAME\`, \`npx lab plan\`\n`,
  );
  return ExitCode.ok;
}
