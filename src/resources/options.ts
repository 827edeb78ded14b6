// A resource's options declared once (TypeBox): the TypeScript type of its
// `want` and the check that runs when the playbook is expanded, so a misspelled
// or mistyped option (`contnet:`, `regex:`) stops `lab plan`/`lab apply` with
// exit 2 naming the option, the resource and the playbook/role line, before any
// host is contacted (TypeScript types are gone once playbooks are loaded).
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { badInput } from "../errors.ts";
import { callSite } from "../engine/call-site.ts";
import { firstProblem, formatPath } from "../engine/validation.ts";
import type { Secret } from "../secrets/secret.ts";

export const closed = { additionalProperties: false } as const;

/** Options every resource takes besides its own. */
export const ResourceOptions = Type.Object(
  {
    /** Handlers to run (once, at the end of the play) when this resource changed. */
    notify: Type.Optional(Type.Array(Type.String())),
    tags: Type.Optional(Type.Array(Type.String())),
  },
  closed,
);
export type ResourceOptions = Static<typeof ResourceOptions>;

/** Text that may be a Secret (checked as the string it stands for). */
export const Text = Type.Unsafe<string | Secret>({ type: "string" });

/** A Secret only (a password, a key), checked as the string it stands for. */
export const SecretText = Type.Unsafe<Secret>({ type: "string" });

/** Octal file mode, e.g. "0644" (its digits are checked by octal(), with its own message). */
export const Mode = Type.String({ description: "octal, e.g. 0644" });

/** One of these strings (JSON Schema enum: an error lists them). */
export const oneOf = <const T extends readonly string[]>(values: T) => Type.Unsafe<T[number]>({ enum: [...values] });

/** Check a resource's want and options against their declarations; throws exit 2 at the caller's line. */
export function checkOptions(
  kind: string,
  schema: TSchema,
  want: unknown,
  opts: unknown = {},
  declaredIn = "src/resources/",
): void {
  const problem = firstProblem(schema, want, "option") ?? firstProblem(ResourceOptions, opts, "resource option");
  if (!problem) return;
  const label = problem.key
    ? formatPath("", problem.path.slice(0, -1)).slice(1)
    : formatPath("", problem.path).slice(1);
  const what = problem.key ? problem.what : `option ${label}: ${problem.what}`;
  throw badInput(
    `${kind}: ${problem.key && label ? `${label}: ` : ""}${what}`,
    callSite() ?? {},
    `see the options of ${kind}() (${declaredIn}); TypeScript (lab check) catches this too when the playbook is typed`,
  );
}
