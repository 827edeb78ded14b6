// command: run a command, guarded so that a second run does nothing. A guard
// is required: an unguarded command would report "changed" on every apply.
import type { Change, Fact, Resource } from "../engine/types.ts";
import { badInput } from "../errors.ts";
import { sh, raw } from "../sh.ts";
import { Type, type Static } from "@sinclair/typebox";
import { checkOptions, closed, type ResourceOptions } from "./options.ts";
import { checkNoNul } from "./path-fact.ts";
import { checkTimeout } from "../transport/timeouts.ts";
import { run } from "./run.ts";
import { withFact } from "./with-fact.ts";

export const CommandWant = Type.Object(
  {
    /** A POSIX sh command line. Build it with `sh` so every value is quoted. */
    command: Type.String({ minLength: 1 }),
    /** Skip when this path exists. */
    creates: Type.Optional(Type.String()),
    /** Skip when this path does not exist. */
    removes: Type.Optional(Type.String()),
    /** Skip when this check command exits 0 (it must have no side effects). */
    unless: Type.Optional(Type.String()),
    /** Shown in the plan instead of the command (e.g. when it holds a secret). */
    description: Type.Optional(Type.String()),
    /** Stop the command and fail the host after this many seconds (default 3600). */
    timeout: Type.Optional(
      Type.Unsafe<number>({ description: "seconds (checked by checkTimeout, with its own message)" }),
    ),
  },
  closed,
);
export type CommandWant = Static<typeof CommandWant>;

export interface GuardState {
  /** Why the command need not run, or undefined when it must. */
  skip?: string;
}

export function guardFact(want: CommandWant): Fact<GuardState> {
  const checks: string[] = [];
  if (want.creates)
    checks.push(sh`if [ -e ${want.creates} ]; then echo ${`creates: ${want.creates} exists`}; exit 0; fi`);
  if (want.removes)
    checks.push(sh`if [ ! -e ${want.removes} ]; then echo ${`removes: ${want.removes} is absent`}; exit 0; fi`);
  if (want.unless)
    checks.push(sh`if ( ${raw(want.unless)} ) >/dev/null 2>&1; then echo 'unless: check passed'; exit 0; fi`);
  return {
    key: `guard:${JSON.stringify([want.creates, want.removes, want.unless])}`,
    command: checks.join("\n"),
    parse: (out) => (out.trim() ? { skip: out.trim() } : {}),
    dependsOn: [want.creates, want.removes].filter((p): p is string => p !== undefined),
  };
}

export function command(want: CommandWant, opts: ResourceOptions = {}): Resource<CommandWant, GuardState> {
  checkOptions("command", CommandWant, want, opts);
  if (!want.creates && !want.removes && !want.unless) {
    throw badInput(
      `command ${JSON.stringify(want.description ?? want.command)} has no guard`,
      {},
      "add creates, removes or unless so that a second run changes nothing",
    );
  }
  for (const key of ["command", "creates", "removes", "unless"] as const) {
    const v = want[key];
    if (v !== undefined) checkNoNul(`command ${JSON.stringify(want.description ?? want.command)}: ${key}`, v);
  }
  checkTimeout(`command ${JSON.stringify(want.description ?? want.command)}`, want.timeout);
  const fact = guardFact(want);
  return withFact(fact, {
    id: `command:${want.description ?? want.command}`,
    want,
    ...opts,
    writes: () => [want.creates, want.removes].filter((p): p is string => p !== undefined),
    diff: (w, have): Change[] => (have.skip ? [] : [{ key: "run", summary: `run ${w.description ?? w.command}` }]),
    async apply(ctx) {
      await run(ctx, want.command, `command ${want.description ?? want.command}`, {
        kind: "command",
        timeout: want.timeout,
      });
      ctx.facts.invalidate();
    },
    ok: (have) => have.skip ?? "guard satisfied",
  });
}
