// The CLI reference, read from the commander program that src/cli/main.ts builds
// (main's `inspect` hook): every command, argument and option, with defaults and
// choices. A command added there appears here after `npm run gen:docs`.
import type { Argument, Command, Option } from "commander";
import { main } from "../../src/cli/main.ts";

const cell = (v: string): string => v.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|");
const code = (v: string): string => `\`${v.replace(/`/g, "'")}\``;

export async function cliProgram(): Promise<Command> {
  let program: Command | undefined;
  await main([], {
    inspect: (p) => {
      program = p;
    },
  });
  if (!program) throw new Error("src/cli/main.ts did not hand its program to inspect");
  return program;
}

const argText = (a: Argument): string => {
  const n = `${a.name()}${a.variadic ? "..." : ""}`;
  return a.required ? `<${n}>` : `[${n}]`;
};

function optionRows(opts: readonly Option[]): string[] {
  if (!opts.length) return [];
  const rows = opts
    .filter((o) => !o.hidden)
    .map((o) => {
      const extra = [
        o.defaultValue !== undefined && !(Array.isArray(o.defaultValue) && o.defaultValue.length === 0)
          ? `default ${code(JSON.stringify(o.defaultValue))}`
          : "",
        o.argChoices ? `one of ${o.argChoices.map(code).join(", ")}` : "",
        o.mandatory ? "required" : "",
      ]
        .filter(Boolean)
        .join("; ");
      return `| ${code(o.flags)} | ${cell(o.description)}${extra ? ` (${extra})` : ""} |`;
    });
  return ["| option | meaning |", "|---|---|", ...rows, ""];
}

function argumentRows(args: readonly Argument[]): string[] {
  if (!args.length) return [];
  const rows = args.map((a) => {
    const dflt = a.defaultValue !== undefined ? ` (default ${code(JSON.stringify(a.defaultValue))})` : "";
    return `| ${code(argText(a))} | ${cell(a.description || "")}${dflt} |`;
  });
  return ["| argument | meaning |", "|---|---|", ...rows, ""];
}

function commandPath(c: Command): string {
  const names: string[] = [];
  for (let x: Command | null = c; x; x = x.parent) names.unshift(x.name());
  return names.join(" ");
}

function section(c: Command, out: string[]): void {
  const usage = [
    commandPath(c),
    c.options.length ? "[options]" : "",
    ...c.registeredArguments.map(argText),
    c.commands.length && !c.registeredArguments.length ? "<command>" : "",
  ]
    .filter(Boolean)
    .join(" ");
  out.push(`## ${code(commandPath(c))}`, "", c.description(), "", "```", usage, "```", "");
  if (c.commands.length) out.push(`Subcommands: ${c.commands.map((s) => code(s.name())).join(", ")}.`, "");
  out.push(...argumentRows(c.registeredArguments), ...optionRows(c.options));
  for (const s of c.commands) section(s, out);
}

export async function cliReference(): Promise<string> {
  const program = await cliProgram();
  const out = [
    "# CLI reference",
    "",
    "Generated from `src/cli/main.ts` by `npm run gen:docs`; do not edit. Exit codes: [exit-codes.md](exit-codes.md).",
    "",
    `Global options (before the command): ${program.options.map((o) => code(o.flags)).join(", ")}.`,
    "",
  ];
  section(program, out);
  return `${out.join("\n").replace(/\n+$/, "")}\n`;
}
