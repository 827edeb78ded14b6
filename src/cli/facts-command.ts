// `lab facts HOST [FACT...]`: a host's named facts (all of them, or those asked for),
// as JSON, read in one round trip through the same transport and host-key checks as a run.
import { badInput, ExitCode } from "../errors.ts";
import { hostFacts } from "../facts/host-facts.ts";
import { knownNames } from "../inventory/patterns.ts";
import { redact } from "../secrets/secret.ts";
import { openWorkflow } from "./workflow-context.ts";

export interface FactsOptions {
  root: string;
  inventory: string;
  host: string;
  facts: string[];
  verbose?: boolean;
  signal?: AbortSignal;
  stdout?: NodeJS.WritableStream;
}

export async function factsCommand(o: FactsOptions): Promise<ExitCode> {
  const unknown = o.facts.filter((f) => !(f in hostFacts));
  if (unknown.length)
    throw badInput(
      `lab facts: unknown fact${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}`,
      {},
      `known facts: ${Object.keys(hostFacts).join(", ")}`,
    );
  const { ctx } = await openWorkflow(o);
  try {
    if (!ctx.inventory.hosts.has(o.host))
      throw badInput(`lab facts: unknown host "${o.host}"`, {}, knownNames(ctx.inventory));
    const names = o.facts.length ? o.facts : Object.keys(hostFacts);
    const facts = ctx.host(o.host).facts;
    await facts.prefetch(names.map((n) => hostFacts[n]!));
    const values = Object.fromEntries(
      await Promise.all(names.map(async (n) => [n, await facts.get(hostFacts[n]!)] as const)),
    );
    (o.stdout ?? process.stdout).write(`${redact(JSON.stringify(values, null, 2))}\n`);
    return ExitCode.ok;
  } finally {
    await ctx.close();
  }
}
