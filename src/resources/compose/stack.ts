// composeProject: a Docker Compose project kept at a revision of its files and
// proven ready. read = the host's stack directory, containers and images (one
// batched fact) + what Compose makes of the wanted files (validity, config
// hashes); diff = file diffs + services to create/recreate/start; apply = upload,
// `up -d --remove-orphans`, wait until healthy/running, roll back on failure.
import type { Change, HostCtx, Resource } from "../../engine/types.ts";
import { ExitCode, LabError, badInput } from "../../errors.ts";
import { Type, type Static } from "@sinclair/typebox";
import { Text, checkOptions, closed, type ResourceOptions } from "../options.ts";
import { converge } from "./converge.ts";
import { parseCache, probeDesired, type Desired } from "./desired.ts";
import { fileChanges, okSummary, stackDiff, type StackPlanInput } from "./diff.ts";
import { revisionId, stackFile, type StackFile } from "./files.ts";
import { composeFact, noCompose, type ComposeFlavour } from "./flavour.ts";
import { stackDirFact, type StackDirState } from "./state.ts";

const StackFileSchema = Type.Unsafe<StackFile>(
  Type.Object({ name: Type.String(), content: Type.String(), secret: Type.Boolean(), mode: Type.String() }, closed),
);

export const ComposeStackWant = Type.Object(
  {
    /** Compose project name, also the stack's directory name. */
    name: Type.String(),
    /** compose.yaml content (rendered template or typed definition; a Secret is never shown). */
    compose: Text,
    /** Other files of the stack (env files, configs), by relative name. */
    files: Type.Optional(Type.Array(StackFileSchema)),
    /** Parent of the stack directories (default /opt/lab/stacks). */
    root: Type.Optional(Type.String()),
    /** Seconds for every service to become healthy/running (default 120). */
    healthyWithin: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** Roll back to the previous revision when the new one fails (default true). */
    rollback: Type.Optional(Type.Boolean()),
    /** Poll interval while waiting, in ms (default 1000). */
    pollMs: Type.Optional(Type.Number({ minimum: 0 })),
  },
  closed,
);
export type ComposeStackWant = Static<typeof ComposeStackWant>;

export interface ComposeStackState {
  flavour: ComposeFlavour;
  state: StackDirState;
  desired: Desired;
}

const PROJECT = /^[a-z0-9][a-z0-9_-]*$/;

export function composeProject(
  want: ComposeStackWant,
  opts: ResourceOptions = {},
): Resource<ComposeStackWant, ComposeStackState> {
  checkOptions("composeProject", ComposeStackWant, want, opts);
  if (!PROJECT.test(want.name))
    throw badInput(
      `compose stack name ${JSON.stringify(want.name)} is not a valid Compose project name`,
      {},
      "use lowercase letters, digits, '-' and '_', starting with a letter or digit",
    );
  const root = (want.root ?? "/opt/lab/stacks").replace(/\/+$/, "");
  if (!root.startsWith("/"))
    throw badInput(`compose stack ${want.name}: root ${JSON.stringify(want.root)} must be an absolute path`);
  const dir = `${root}/${want.name}`;
  const files: StackFile[] = [stackFile("compose.yaml", want.compose), ...(want.files ?? [])];
  const dup = files.find((f, i) => files.findIndex((g) => g.name === f.name) !== i);
  if (dup) throw badInput(`compose stack ${want.name}: file ${dup.name} is given twice`);
  const revision = revisionId(files);
  const showable = files.filter((f) => !f.secret).map((f) => f.name);
  const dirFact = stackDirFact(dir, want.name, showable);
  const plan = (have: ComposeStackState): StackPlanInput => ({
    dir,
    revision,
    files,
    state: have.state,
    desired: have.desired,
  });

  return {
    id: `compose-stack:${want.name}`,
    want,
    ...opts,
    facts: () => [composeFact, dirFact],
    async read(ctx: HostCtx): Promise<ComposeStackState> {
      const flavour = await ctx.facts.get(composeFact);
      if (flavour.kind === "none") throw noCompose(ctx.host.name);
      const state = await ctx.facts.get(dirFact);
      if (state.dockerDown) {
        throw new LabError(
          `compose stack ${want.name}: the Docker engine does not answer (docker ps failed)`,
          ExitCode.failed,
          { host: ctx.host.name },
          "start dockerd (the docker-host role keeps it running), or check /var/run/docker.sock",
        );
      }
      const inPlace =
        state.current === revision &&
        fileChanges({ dir, revision, files, state, desired: { services: {} } }).length === 0;
      // In place and cached (written after the apply that made this revision current): no Compose run.
      const cached = inPlace && state.cache ? parseCache(state.cache, flavour) : undefined;
      const desired =
        cached ??
        (await probeDesired(
          ctx,
          flavour,
          want.name,
          files,
          inPlace ? { inPlace: `${dir}/${revision}` } : { stackDir: dir },
        ));
      if (desired.invalid !== undefined) {
        throw new LabError(
          `compose stack ${want.name}: Compose refuses the compose file; nothing was uploaded:\n    ${desired.invalid.split("\n").join("\n    ")}`,
          ExitCode.failed,
          { host: ctx.host.name },
          "fix the template or service definitions (the message is `docker-compose config` on the host)",
        );
      }
      return { flavour, state, desired };
    },
    diff: (_w, have): Change[] => stackDiff(plan(have)),
    async apply(ctx, changes, have) {
      try {
        await converge(ctx, {
          flavour: have.flavour,
          project: want.name,
          dir,
          revision,
          files,
          services: Object.keys(have.desired.services),
          upload: changes.some((c) => c.key.startsWith("file:")) || !have.state.revisions.includes(revision),
          ...(have.state.current ? { current: have.state.current } : {}),
          ...(have.state.previous ? { previous: have.state.previous } : {}),
          rollback: want.rollback ?? true,
          timeoutMs: (want.healthyWithin ?? 120) * 1000,
          pollMs: want.pollMs ?? 1000,
        });
      } finally {
        ctx.facts.invalidate([dirFact.key]);
      }
    },
    ok: (have) => okSummary(plan(have)),
  };
}
