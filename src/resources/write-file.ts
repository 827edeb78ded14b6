// Atomic file write: content goes over stdin into a temp file in the same
// directory, gets its mode and owner, then is renamed over the target.
import type { HostCtx } from "../engine/types.ts";
import { sh } from "../sh.ts";
import type { PathState } from "./path-fact.ts";
import { run } from "./run.ts";

export interface Attrs {
  mode: string;
  owner?: string;
  group?: string;
}

export async function writeFileAtomic(ctx: HostCtx, path: string, content: string, attrs: Attrs): Promise<void> {
  const chown = attrs.owner || attrs.group ? sh`chown ${`${attrs.owner ?? ""}${attrs.group ? `:${attrs.group}` : ""}`} "$t"\n` : "";
  const cmd = sh`set -e
p=${path}
t=$(mktemp "$(dirname -- "$p")/.lab-tmp.XXXXXX")
trap 'rm -f -- "$t"' EXIT
cat > "$t"
chmod ${attrs.mode} "$t"
` + chown + `mv -f -- "$t" "$p"
trap - EXIT`;
  await run(ctx, cmd, `write ${path}`, content);
}

/** The owner and group of an existing file: a rewrite keeps them (the temp file belongs to the login user). */
export const currentOwner = (have: PathState): { owner?: string; group?: string } =>
  have.kind === "file" ? { ...(have.owner ? { owner: have.owner } : {}), ...(have.group ? { group: have.group } : {}) } : {};

export async function setAttrs(ctx: HostCtx, path: string, attrs: Partial<Attrs>): Promise<void> {
  const parts: string[] = [];
  if (attrs.mode) parts.push(sh`chmod -- ${attrs.mode} ${path}`);
  if (attrs.owner || attrs.group) parts.push(sh`chown -- ${`${attrs.owner ?? ""}${attrs.group ? `:${attrs.group}` : ""}`} ${path}`);
  if (parts.length) await run(ctx, parts.join(" && "), `set mode/owner of ${path}`);
}
