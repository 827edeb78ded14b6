// compose-stack: one Docker Compose stack, from a compose template in templates/
// (nunjucks) or from typed service definitions, with its config files and env
// files (values may come from the project's secrets: written 0600, never shown).
// lab validates it on the host before replacing anything, keeps the previous
// revision, brings it up and waits until every service is healthy (or running,
// without a healthcheck), and rolls back when it is not. The homelab's example
// stacks are in example-stacks.ts.
//
//   composeStack({ name: "wiki", template: "stacks/wiki/compose.yaml.njk", vars: { port: 8081 },
//                  env: { "wiki.env": { WIKI_ADMIN_PASSWORD: { secret: "wiki_admin_password" } } } })
//
// `lab apply -e compose_rollback=false` keeps a failed revision running for debugging.
import {
  Type,
  defineRole,
  type HostInfo,
  type RoleTools,
  type Static,
  badInput,
  composeProject,
  composeYaml,
  stackFile,
  type ComposeDefinition,
  type StackFile,
} from "lab";

const closed = { additionalProperties: false } as const;
const EnvValue = Type.Union([Type.String({ pattern: "^[^\\n\\r]*$" }), Type.Object({ secret: Type.String() }, closed)]);
export type EnvValue = Static<typeof EnvValue>;

export const ComposeStackVars = Type.Object(
  {
    /** Compose project name and directory name under `root`. */
    name: Type.String({ pattern: "^[a-z0-9][a-z0-9_-]*$" }),
    /** The compose file: a template under templates/ ... */
    template: Type.Optional(Type.String({ minLength: 1 })),
    /** ... or typed service definitions. */
    definition: Type.Optional(
      Type.Unsafe<ComposeDefinition>({
        type: "object",
        required: ["services"],
        properties: { services: { type: "object" } },
      }),
    ),
    /** Vars for the compose template and the file templates. */
    vars: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    /** More files of the stack by relative name: a template under templates/, or inline content. */
    files: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object(
          {
            template: Type.Optional(Type.String()),
            content: Type.Optional(Type.String()),
            mode: Type.Optional(Type.String({ pattern: "^[0-7]{3,4}$" })),
          },
          closed,
        ),
      ),
    ),
    /** Env files by relative name (reference them with env_file): KEY -> value or { secret: NAME }. */
    env: Type.Optional(
      Type.Record(Type.String(), Type.Record(Type.String({ pattern: "^[A-Za-z_][A-Za-z0-9_]*$" }), EnvValue)),
    ),
    /** Parent of the stack directories (default /opt/lab/stacks). */
    root: Type.Optional(Type.String({ pattern: "^/" })),
    /** Seconds for every service to become ready (default 120). */
    healthyWithin: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Roll back to the previous revision when the new one fails (default: true, or host var compose_rollback). */
    rollback: Type.Optional(Type.Boolean()),
  },
  { ...closed, oneOf: [{ required: ["template"] }, { required: ["definition"] }] },
);
export type ComposeStackVars = Static<typeof ComposeStackVars>;

export const composeStack = defineRole({
  name: "compose-stack",
  vars: ComposeStackVars,
  resources: (v, host, lab) => [
    composeProject({
      name: v.name,
      compose: v.template
        ? lab.template(v.template, { ...v.vars, stack: v.name, host: host.name })
        : composeYaml(v.definition!),
      files: [...otherFiles(v, host, lab), ...envFiles(v, lab)],
      ...(v.root ? { root: v.root } : {}),
      ...(v.healthyWithin ? { healthyWithin: v.healthyWithin } : {}),
      rollback: v.rollback ?? hostRollback(host),
    }),
  ],
});

/** Host var compose_rollback (e.g. `-e compose_rollback=false`); default true. */
const hostRollback = (host: HostInfo): boolean => {
  const v = host.vars.compose_rollback;
  return !(v === false || (typeof v === "string" && ["false", "no", "0", "off"].includes(v.toLowerCase())));
};

function otherFiles(v: ComposeStackVars, host: HostInfo, lab: RoleTools): StackFile[] {
  return Object.entries(v.files ?? {}).map(([name, f]) => {
    if ((f.template === undefined) === (f.content === undefined))
      throw badInput(`compose stack ${v.name}: file ${name} needs exactly one of template or content`);
    const content =
      f.template !== undefined ? lab.template(f.template, { ...v.vars, stack: v.name, host: host.name }) : f.content!;
    return stackFile(name, content, f.mode ? { mode: f.mode } : {});
  });
}

/** KEY=value lines; the file is secret (0600, never shown) when any value comes from the secrets. */
function envFiles(v: ComposeStackVars, lab: RoleTools): StackFile[] {
  return Object.entries(v.env ?? {}).map(([name, entries]) => {
    let secret = false;
    const lines = Object.entries(entries).map(([key, value]) => {
      let text: string;
      if (typeof value === "string") text = value;
      else {
        secret = true;
        text = lab.secret(value.secret).reveal();
      }
      if (/[\r\n]/.test(text))
        throw badInput(
          `compose stack ${v.name}: ${name}: the value of ${key} has a line break, which an env file cannot hold`,
        );
      return `${key}=${text}\n`;
    });
    return stackFile(name, lines.join(""), { secret, mode: "0600" });
  });
}
