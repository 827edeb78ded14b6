// pgbackrestConf: pgbackrest.conf rendered with a fact of the host (its CPU
// cores, for process-max), written like a file resource (atomic, 0600, owned
// by the user pgBackRest runs as: the file holds the repository passphrase).
import type { Fact, Resource } from "../../engine/types.ts";
import type { Secret } from "../../secrets/secret.ts";
import { file, fileDiff, type FileWant, type ResourceOptions } from "../file.ts";
import { pathFact, type PathState } from "../path-fact.ts";

export interface ConfWant {
  path: string;
  owner: string;
  group: string;
  /** The file's text for a host with this many cores. */
  render(cores: number): string | Secret;
}

export interface ConfState {
  cores: number;
  file: PathState;
}

export const coresFact: Fact<number> = {
  key: "cpu-cores",
  command: "nproc",
  parse: (out) => Math.max(1, Number.parseInt(out.trim(), 10) || 1),
};

/** Parallel processes for a host: half its cores (the database keeps the rest), at least one. */
export const processMaxFor = (cores: number): number => Math.max(1, Math.floor(cores / 2));

export function pgbackrestConf(want: ConfWant, opts: ResourceOptions = {}): Resource<ConfWant, ConfState> {
  const pf = pathFact(want.path);
  const fileWant = (cores: number): FileWant => ({
    path: want.path,
    content: want.render(cores),
    mode: "0600",
    owner: want.owner,
    group: want.group,
  });
  return {
    id: `pgbackrest-conf:${want.path}`,
    want,
    ...opts,
    facts: () => [coresFact, pf],
    read: async (ctx) => ({ cores: await ctx.facts.get(coresFact), file: await ctx.facts.get(pf) }),
    diff: (_w, have) => fileDiff(fileWant(have.cores), have.file),
    apply: (ctx, changes, have) => file(fileWant(have.cores)).apply(ctx, changes, have.file),
    ok: (have) => `${want.path} as wanted for ${have.cores} cores (sha256 ${have.file.sha256?.slice(0, 12) ?? "-"})`,
  };
}
