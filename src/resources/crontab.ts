// crontab: a marked block in the crontab of the user lab runs as, edited through
// the `crontab` command (never the spool file: crontab checks and signals cron).
// The rest of the crontab is the user's and stays byte for byte; removing the
// block removes exactly it (and the crontab, when nothing else is left).
import type { Change, Fact, Resource } from "../engine/types.ts";
import { ExitCode, LabError, badInput } from "../errors.ts";
import { editBlock } from "./lines.ts";
import { run } from "./run.ts";
import { unifiedDiff } from "./text-diff.ts";
import { valueChange } from "./attrs-diff.ts";
import { currentUser } from "../user.ts";

export interface CrontabWant {
  /** Marker lines; "{mark}" becomes BEGIN / END. */
  marker: string;
  /** The block's lines (schedule + command, comments). */
  block: string;
  state?: "present" | "absent";
}

/** The crontab's text ("" when the user has none). */
export const crontabFact: Fact<string> = {
  key: "crontab",
  command: 'crontab -l 2>&1; echo "@@rc:$?"',
  parse(out) {
    const m = /@@rc:(\d+)\n?$/.exec(out);
    const text = out.slice(0, m?.index ?? out.length);
    if (m?.[1] === "0") return text;
    // Debian's crontab: "no crontab for USER" (exit 1) is an empty crontab.
    if (/^no crontab for /m.test(text)) return "";
    throw new LabError(
      `crontab -l failed: ${text.trim() || `exit ${m?.[1] ?? "?"}`}`,
      ExitCode.failed,
      { command: "crontab -l" },
      /not found/.test(text)
        ? "install cron (Debian: apt-get install cron)"
        : "check that this user may use cron (/etc/cron.allow, /etc/cron.deny)",
    );
  },
};

/** The crontab after the edit. */
export const editCrontab = (text: string, want: CrontabWant): string =>
  editBlock(text, {
    path: "crontab",
    marker: want.marker,
    block: want.block,
    ...(want.state ? { state: want.state } : {}),
  });

/** The lines of the block in a crontab, without its markers; undefined when there is none. */
export function crontabBlock(text: string, marker: string): string[] | undefined {
  const lines = text.split("\n");
  const b = lines.lastIndexOf(marker.replace("{mark}", "BEGIN"));
  const e = b >= 0 ? lines.indexOf(marker.replace("{mark}", "END"), b) : -1;
  return b >= 0 && e >= 0 ? lines.slice(b + 1, e) : undefined;
}

export function crontab(want: CrontabWant): Resource<CrontabWant, string> {
  if (!want.marker.includes("{mark}") || /[\r\n]/.test(want.marker))
    throw badInput(`crontab: marker ${JSON.stringify(want.marker)} must be one line holding {mark}`);
  const name = want.marker.replace(/^#\s*/, "").replace("{mark}", "").trim();
  return {
    id: `crontab:${name}`,
    want,
    facts: () => [crontabFact],
    read: (ctx) => ctx.facts.get(crontabFact),
    diff(w, have): Change[] {
      const next = editCrontab(have, w);
      if (next === have) return [];
      const verb =
        w.state === "absent"
          ? "remove the block from"
          : crontabBlock(have, w.marker)
            ? "update the block in"
            : "add a block to";
      return [
        valueChange("content", `${verb} the crontab of ${currentUser()}`, have || null, next || null, {
          diff: unifiedDiff("crontab", have || undefined, next),
        }),
      ];
    },
    async apply(ctx, _changes, have) {
      const next = editCrontab(have, want);
      // Nothing else was in it: no crontab at all, as before the block was added.
      if (next === "") await run(ctx, "crontab -r", "crontab -r");
      else await run(ctx, "crontab -", "crontab - (install the edited crontab)", { stdin: next });
      ctx.facts.invalidate([crontabFact.key]);
    },
    ok: () => (want.state === "absent" ? "no such block in the crontab" : "the crontab already holds the block"),
  };
}
