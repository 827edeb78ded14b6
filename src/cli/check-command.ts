// `lab check`: everything that can be known without contacting a host. The
// TypeScript compiler checks playbooks and roles (a wrong var is a type
// error); the inventory, the declared host vars, each playbook's role vars and
// resource options are validated too. Needs nothing the demo makes (stand-ins).
import { readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ExitCode, LabError } from "../errors.ts";
import { RunContext } from "../engine/context.ts";
import { prepare } from "../engine/runner.ts";

export async function checkCommand(o: { root: string; inventory: string; playbooks: string[]; out: NodeJS.WritableStream }): Promise<ExitCode> {
  const { $ } = await import("zx");
  const tsc = await $({ nothrow: true, quiet: true, cwd: o.root })`npx --no-install tsc --noEmit -p ${o.root}`;
  if (tsc.exitCode !== 0) {
    o.out.write(tsc.stdout);
    throw new LabError("type errors in playbooks or roles (listed above)", ExitCode.badInput, {}, "fix them; each line names file(line,col)");
  }
  o.out.write("types: ok\n");
  const pbs = o.playbooks.length ? o.playbooks.map((p) => resolve(o.root, p))
    : (await readdir(join(o.root, "playbooks"))).filter((f) => f.endsWith(".ts")).map((f) => join(o.root, "playbooks", f));
  // Stand-ins for what only a real run has: secrets (nothing is decrypted) and `.pub` keys the demo makes.
  const ctx = await RunContext.open({ root: o.root, inventory: o.inventory, standIns: true, signal: new AbortController().signal, log: { debug: () => {}, warn: () => {} } });
  try {
    for (const playbook of pbs) {
      const { plays } = await prepare(ctx, playbook, {});
      const steps = plays.reduce((n, p) => n + p.hosts.reduce((m, h) => m + h.steps.length, 0), 0);
      o.out.write(`${playbook.slice(o.root.length + 1)}: ok (${plays.length} play(s), ${steps} step(s))\n`);
    }
  } finally {
    await ctx.close();
  }
  return ExitCode.ok;
}
