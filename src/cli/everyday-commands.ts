// argv for the everyday commands: `lab inventory`, `lab facts`, `lab exec`, and the
// --list-* options of plan/apply. Kept out of main.ts; each command loads on demand.
import { resolve } from "node:path";
import { Command, Option } from "commander";
import { badInput } from "../errors.ts";
import type { ListKind } from "./list-plays.ts";
import { wholeNumber } from "./number-option.ts";

interface Shared {
  verbose: () => boolean;
  argv: string[];
  signal: AbortSignal;
}

const paths = (program: Command) => {
  const g = program.opts<{ root: string; inventory: string }>();
  const root = resolve(g.root);
  return { root, inventory: resolve(root, g.inventory) };
};

/** At most one --list-* of plan/apply. */
export function listOption(o: Record<string, unknown>): { list?: ListKind } {
  const kinds = (["hosts", "tags", "tasks"] as const).filter((k) => o[`list${k[0]!.toUpperCase()}${k.slice(1)}`]);
  if (kinds.length > 1) throw badInput(`give one of ${kinds.map((k) => `--list-${k}`).join(", ")}`);
  return kinds[0] ? { list: kinds[0] } : {};
}

export function registerEverydayCommands(program: Command, shared: Shared, done: (code: number) => void): void {
  program
    .command("inventory")
    .description(
      "show the resolved inventory as ansible-inventory does (--list JSON, --graph, --host NAME); nothing is contacted",
    )
    .option("--list", "every group and host, with hostvars (ansible-inventory --list JSON)")
    .option("--graph", "groups and hosts as a tree")
    .option("--host <name>", "one host's vars and connection (JSON)")
    .action(async (o: { list?: boolean; graph?: boolean; host?: string }) => {
      const given = [o.list && "--list", o.graph && "--graph", o.host !== undefined && "--host"].filter(Boolean);
      if (given.length !== 1)
        throw badInput(
          `lab inventory: give exactly one of --list, --graph, --host NAME${given.length ? ` (got ${given.join(", ")})` : ""}`,
        );
      const { root, inventory } = paths(program);
      const { inventoryCommand } = await import("./inventory-command.ts");
      const { loadInventory } = await import("../inventory/inventory.ts");
      const inv = await loadInventory({ path: inventory, root, missingKeyFiles: "stand-in" });
      done(
        inventoryCommand(inv, o.list ? { list: true } : o.graph ? { graph: true } : { host: o.host! }, process.stdout),
      );
    });

  program
    .command("facts")
    .description(
      "a host's facts as JSON (hostname, os, kernel, arch, cpus, memory_mb, init, compose, addresses, uptime_s)",
    )
    .argument("<host>")
    .argument("[facts...]", "only these facts")
    .action(async (host: string, facts: string[]) => {
      const { factsCommand } = await import("./facts-command.ts");
      done(await factsCommand({ ...paths(program), host, facts, verbose: shared.verbose(), signal: shared.signal }));
    });

  program
    .command("exec")
    .description(
      "run an ad-hoc command on hosts in parallel: lab exec PATTERN -- COMMAND (one word: a shell line; several: quoted arguments)",
    )
    .argument("<pattern>", "hosts/groups: web1, web:db, all:!db1")
    .argument("<command...>", "the command, after --")
    .addOption(
      new Option("-f, --forks <n>", "hosts in parallel").env("LAB_FORKS").default(10).argParser(wholeNumber(1)),
    )
    .addOption(new Option("--timeout <seconds>", "per-host limit (default 3600)").argParser(wholeNumber(1)))
    .action(async (pattern: string, command: string[], o: { forks: number; timeout?: number }) => {
      const { execCommand } = await import("./exec-command.ts");
      const r = await execCommand({
        ...paths(program),
        pattern,
        command,
        forks: o.forks,
        ...(o.timeout ? { timeout: o.timeout } : {}),
        argv: shared.argv,
        verbose: shared.verbose(),
        signal: shared.signal,
      });
      done(r.code);
    });
}
