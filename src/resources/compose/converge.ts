// Applying a stack: upload the new revision (validated in a staging directory
// before anything is replaced), switch the `current` link (the old one becomes
// `previous`), `up -d --remove-orphans`, wait until every service is ready. On
// failure, roll back: point `current` at the previous revision, bring it up
// again, wait for it, and say so in the error.
import type { HostCtx } from "../../engine/types.ts";
import { ExitCode, LabError } from "../../errors.ts";
import { redact } from "../../secrets/secret.ts";
import { sh } from "../../sh.ts";
import { run } from "../run.ts";
import { writeCache } from "./desired.ts";
import { UNPACK, bundle, type StackFile } from "./files.ts";
import { composeCommand, type ComposeFlavour } from "./flavour.ts";
import { repairRecreateCommand } from "./containers.ts";
import { waitReady } from "./wait.ts";
import { timeoutMs } from "../../transport/timeouts.ts";

export interface ConvergeInput {
  flavour: ComposeFlavour;
  project: string;
  /** The stack's directory, e.g. /opt/lab/stacks/wiki. */
  dir: string;
  revision: string;
  files: readonly StackFile[];
  services: readonly string[];
  /** Upload the files (they differ from the current revision's). */
  upload: boolean;
  current?: string;
  previous?: string;
  rollback: boolean;
  timeoutMs: number;
  pollMs: number;
}

/** Stage into DIR/.staging.*, then move into place as DIR/REV (replacing a stale copy). The files were
 * validated by read() moments before, byte for byte, in a temp dir: Compose (slow to start) is not run again. */
export const uploadCommand = (dir: string, revision: string): string =>
  `${UNPACK}
set -e
${sh`D=${dir}; R=${revision}`}
mkdir -p "$D"; chmod 0700 "$D"
S=$(mktemp -d "$D/.staging.XXXXXX")
trap 'rm -rf "$S" "$S.old"' EXIT
lab_unpack "$S"
chmod 0755 "$S"
if [ -e "$D/$R" ]; then mv "$D/$R" "$S.old"; fi
mv "$S" "$D/$R"`;

/** Point `current` (and `previous`) at revisions, each with an atomic rename of a fresh symlink. */
export const linkCommand = (dir: string, current: string, previous: string | undefined): string =>
  sh`set -e; cd ${dir}
ln -sfn ${current} .current.tmp && mv -T .current.tmp current
` + (previous ? sh`ln -sfn ${previous} .previous.tmp && mv -T .previous.tmp previous` : "rm -f previous");

/** Remove every revision but current and previous, and leftovers of interrupted uploads and probes. */
export const pruneCommand = (dir: string): string =>
  sh`cd ${dir} || exit 0
cur=$(readlink current 2>/dev/null) || cur=
prev=$(readlink previous 2>/dev/null) || prev=
for r in rev-* .staging.* .probe.*; do [ -e "$r" ] || continue; if [ "$r" != "$cur" ] && [ "$r" != "$prev" ]; then rm -rf -- "$r"; fi; done`;

export async function converge(ctx: HostCtx, c: ConvergeInput): Promise<void> {
  const what = `compose stack ${c.project}`;
  if (c.upload) {
    const r = await ctx.transport.exec(uploadCommand(c.dir, c.revision), {
      stdin: bundle(c.files),
      timeoutMs: timeoutMs("compose"),
    });
    if (r.code !== 0) {
      throw new LabError(
        `${what}: upload failed (exit ${r.code}); nothing was replaced:\n    ${redact(r.stderr.trim().split("\n").slice(-5).join("\n    "))}`,
        ExitCode.failed,
        { host: ctx.host.name },
        "is the disk full, or the stacks' root not writable?",
      );
    }
  }
  const switching = c.current !== c.revision;
  if (switching)
    await run(ctx, linkCommand(c.dir, c.revision, c.current), `${what}: switch to ${c.revision}`, { kind: "compose" });

  const failure = await upAndWait(ctx, c, c.revision, c.services);
  if (failure === INTERRUPTED) {
    // Nothing was seen to fail: rolling back would undo a deploy that may well be fine.
    throw new LabError(
      `${what}: interrupted while ${c.revision} was starting; it is left running, not rolled back (nothing was seen to fail)`,
      ExitCode.interrupted,
      { host: ctx.host.name },
      "run apply again: it finds the revision in place and waits for it",
    );
  }
  if (!failure) {
    await writeCache(ctx, c.flavour, c.project, `${c.dir}/${c.revision}`);
    await run(ctx, pruneCommand(c.dir), `${what}: prune old revisions`, { kind: "compose" });
    return;
  }
  let outcome: string;
  if (!switching) outcome = `nothing to roll back to: ${c.revision} was already the current revision`;
  else if (!c.current)
    outcome = `nothing to roll back to: this was the stack's first revision; ${c.revision} is left as it is for debugging`;
  else if (!c.rollback)
    outcome = `rollback is off: ${c.revision} is left running for debugging (the previous revision is ${c.current})`;
  else outcome = await rollBack(ctx, c, c.current);
  throw new LabError(
    `${what}: ${c.revision} failed: ${failure}\n  ${outcome}`,
    ExitCode.failed,
    { host: ctx.host.name },
    "see the health check and log lines above; `lab apply -e compose_rollback=false` keeps a failed revision running for debugging",
  );
}

async function rollBack(ctx: HostCtx, c: ConvergeInput, to: string): Promise<string> {
  try {
    await run(ctx, linkCommand(c.dir, to, c.previous), `compose stack ${c.project}: roll back to ${to}`, {
      kind: "compose",
    });
    // The previous revision's services: ask Compose, since they may differ from the failed revision's.
    const svc = await run(
      ctx,
      composeCommand(c.flavour, { project: c.project, dir: `${c.dir}/${to}` }, ["config", "--services"]),
      "list services",
      { kind: "compose" },
    );
    const failure = await upAndWait(
      ctx,
      c,
      to,
      svc.stdout
        .split("\n")
        .map((s) => s.trim())
        .filter(Boolean),
    );
    if (failure === INTERRUPTED) return `rolled back to ${to}; interrupted while waiting for it to become ready`;
    if (failure) return `ROLLBACK FAILED: rolled back to ${to}, but it is not healthy either: ${failure}`;
    await run(ctx, sh`rm -rf -- ${`${c.dir}/${c.revision}`}`, "remove the failed revision", { kind: "compose" });
    return `rolled back: ${to} is the current revision again, and its services are up and ready`;
  } catch (e) {
    return `ROLLBACK FAILED: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** What upAndWait returns when the wait was interrupted before anything failed. */
const INTERRUPTED = Symbol("interrupted");

/** `up -d --remove-orphans` in a revision, then wait; the failure text, INTERRUPTED, or undefined when ready. */
async function upAndWait(
  ctx: HostCtx,
  c: ConvergeInput,
  revision: string,
  services: readonly string[],
): Promise<string | typeof INTERRUPTED | undefined> {
  // One round trip: first repair what an interrupted earlier `up` left (see repairRecreateCommand).
  const cmd = `${repairRecreateCommand(c.project)}\n${composeCommand(c.flavour, { project: c.project, dir: `${c.dir}/${revision}` }, ["up", "-d", "--remove-orphans"])}`;
  ctx.log.debug(`[${ctx.host.name}] $ ${cmd}`);
  const up = await ctx.transport.exec(cmd, { timeoutMs: c.timeoutMs + 300_000 });
  // After a failed `up`, one look at the containers (for their logs), no waiting.
  const waited = await waitReady(ctx, {
    project: c.project,
    services,
    timeoutMs: up.code === 0 ? c.timeoutMs : 0,
    pollMs: c.pollMs,
  });
  if (up.code !== 0) {
    const tail = redact((up.stderr.trim() || up.stdout.trim()).split("\n").slice(-8).join("\n    "));
    return `\`up -d\` failed (exit ${up.code}):\n    ${tail}${waited.ok ? "" : `\n  ${waited.reason}`}`;
  }
  if (waited.ok) return undefined;
  return waited.interrupted ? INTERRUPTED : waited.reason;
}
