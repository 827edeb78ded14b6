// Run the real CLI entry (main(argv)) in-process and capture what it writes.
import { vi } from "vitest";
import { main } from "../../../src/cli/main.ts";
import { LAB, makeProject, writeProjectFiles } from "../helpers/project.ts";

/** Two plays: "web" (play tag webtier, a file tagged motd) on group web, "db" on group db. */
export const TWO_PLAYS = `import { definePlaybook, inline, file } from ${LAB};
export default definePlaybook({ name: "site", plays: [
  { name: "web", hosts: "web", tags: ["webtier"], roles: (h) => [inline([file({ path: String(h.vars.dir) + "/motd", content: "hi\\n" }, { tags: ["motd"] })])] },
  { name: "db", hosts: "db", roles: (h) => [inline([file({ path: String(h.vars.dir) + "/pg", content: "pg\\n" })])] },
] });
`;

/** A project of two local-transport hosts: alpha in group web, beta in group db, each with its own target folder. */
export async function localProject(site = TWO_PLAYS): Promise<string> {
  const root = await makeProject({ "playbooks/site.ts": site });
  await writeProjectFiles(root, {
    "inventory/hosts.yaml": `connection: { type: local }
hosts:
  alpha: { vars: { dir: ${root}/alpha } }
  beta: { vars: { dir: ${root}/beta } }
groups:
  web: { hosts: [alpha] }
  db: { hosts: [beta] }
`,
    "alpha/.keep": "",
    "beta/.keep": "",
  });
  return root;
}

export interface MainRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runMain(argv: string[], env: Record<string, string | undefined> = {}): Promise<MainRun> {
  let stdout = "";
  let stderr = "";
  const out = vi
    .spyOn(process.stdout, "write")
    .mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const err = vi
    .spyOn(process.stderr, "write")
    .mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env))
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  try {
    return { code: await main(argv), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}
