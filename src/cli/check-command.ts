// `lab check`: everything that can be known without contacting a host. The
// TypeScript compiler checks playbooks and roles (a wrong var is a type
// error); the inventory, the declared host vars, each playbook's role vars and
// resource options are validated too. Needs nothing the demo makes (stand-ins).
import { readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ExitCode, LabError } from "../errors.ts";
import { RunContext } from "../engine/context.ts";
import { prepare } from "../engine/runner.ts";
import { typeCheck } from "./type-check.ts";

export async function checkCommand(o: {
  root: string;
  inventory: string;
  playbooks: string[];
  out: NodeJS.WritableStream;
}): Promise<ExitCode> {
  const pbs = o.playbooks.length
    ? o.playbooks.map((p) => resolve(o.root, p))
    : (await readdir(join(o.root, "playbooks")))
        .filter((f) => f.endsWith(".ts"))
        .map((f) => join(o.root, "playbooks", f));
  // The compiler (a child process) and the loading of the playbooks run side by side; type
  // errors are reported first, as when one ran after the other.
  const types = typeCheck({ root: o.root, inventory: o.inventory, playbooks: pbs });
  const loaded = validate(o.root, o.inventory, pbs).then(
    (lines) => ({ lines }),
    (error: unknown) => ({ error }),
  );
  const t = await types;
  if (!t.ok) {
    await loaded;
    o.out.write(t.output);
    throw new LabError(
      "type errors in playbooks or roles (listed above)",
      ExitCode.badInput,
      {},
      "fix them; each line names file(line,col)",
    );
  }
  // Named: a file lab did not hand to the compiler is never reported as checked.
  o.out.write(
    t.files.length
      ? `types: ok (${t.files.join(", ")} and what they import)\n`
      : "types: no TypeScript file to check\n",
  );
  const l = await loaded;
  if ("error" in l) throw l.error;
  for (const line of l.lines) o.out.write(line);
  return ExitCode.ok;
}

/** Each playbook loaded and expanded for every host: one line per playbook. */
async function validate(root: string, inventory: string, pbs: string[]): Promise<string[]> {
  // Stand-ins for what only a real run has: secrets (nothing is decrypted) and `.pub` keys the demo makes.
  const ctx = await RunContext.open({
    root,
    inventory,
    standIns: true,
    signal: new AbortController().signal,
    log: { debug: () => {}, warn: () => {} },
  });
  const lines: string[] = [];
  try {
    for (const playbook of pbs) {
      const { plays } = await prepare(ctx, playbook, {});
      const steps = plays.reduce((n, p) => n + p.hosts.reduce((m, h) => m + h.steps.length, 0), 0);
      lines.push(`${playbook.slice(root.length + 1)}: ok (${plays.length} play(s), ${steps} step(s))\n`);
    }
  } finally {
    await ctx.close();
  }
  return lines;
}
