// A file whose content is known only when the host is read: rendered from what a
// lookup returns then (e.g. VMs' addresses from their guest agents). Otherwise it
// is `file`: the same diff, the same staged, atomic write.
import type { HostCtx, Resource } from "../engine/types.ts";
import { file, fileDiff, type FileWant } from "./file.ts";
import type { ResourceOptions } from "./options.ts";
import { pathFact, type PathState } from "./path-fact.ts";
import { octal } from "./run.ts";

export type LateFileWant = Omit<FileWant, "content" | "state">;
export interface LateFileHave {
  content: string;
  state: PathState;
}

export function lateFile(
  wanted: LateFileWant,
  render: (ctx: HostCtx) => Promise<string>,
  opts: ResourceOptions = {},
): Resource<LateFileWant, LateFileHave> {
  const want: LateFileWant = { ...wanted, ...(wanted.mode ? { mode: octal(wanted.mode) } : {}) };
  const withContent = (content: string) => file({ ...want, content }, opts);
  const probe = withContent("");
  return {
    id: probe.id,
    want,
    ...opts,
    writes: () => [want.path],
    facts: () => [pathFact(want.path)],
    async read(ctx) {
      const content = await render(ctx);
      return { content, state: await withContent(content).read(ctx) };
    },
    diff: (w, have) => fileDiff({ ...w, content: have.content }, have.state),
    apply: (ctx, changes, have) => withContent(have.content).apply(ctx, changes, have.state),
    ok: (have) => probe.ok?.(have.state) ?? "content matches",
  };
}
