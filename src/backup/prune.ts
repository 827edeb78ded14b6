// The prune selection of Proxmox Backup Server, ported from
// pbs-datastore/src/prune.rs (compute_prune_info, mark_selections,
// remove_incomplete_snapshots) and checked against PBS's own tests
// (tests/prune.rs, ported to test/fixtures/prune/). Pure: no clock, no I/O.
// Periods are calendar periods in the server's local time zone (strftime_local
// in PBS), weeks are ISO weeks (%G/%V). See docs/adr/0012-prune-selection.md.

export interface KeepOptions {
  readonly last?: number;
  readonly hourly?: number;
  readonly daily?: number;
  readonly weekly?: number;
  readonly monthly?: number;
  readonly yearly?: number;
}

export interface PruneSnapshot {
  /** backup-time, seconds since the epoch. */
  readonly time: number;
  /** PBS: the manifest (index.json.blob) exists. */
  readonly finished: boolean;
  readonly protected: boolean;
}

/** PBS's PruneMark. */
export type PruneMark = "protected" | "keep" | "keep-partial" | "remove";
/** Why a snapshot is kept: the keep option that selected it, or the special cases. */
export type KeepReason =
  | "keep-last"
  | "keep-hourly"
  | "keep-daily"
  | "keep-weekly"
  | "keep-monthly"
  | "keep-yearly"
  | "protected"
  | "keep-partial"
  | "keep-all";

export interface PruneDecision<T extends PruneSnapshot> {
  readonly snapshot: T;
  readonly mark: PruneMark;
  /** Set when the snapshot is kept. */
  readonly reason?: KeepReason;
}

/** The keep options in the order PBS applies them, with the period each one counts. */
const RULES = [
  ["last", "keep-last"],
  ["hourly", "keep-hourly"],
  ["daily", "keep-daily"],
  ["weekly", "keep-weekly"],
  ["monthly", "keep-monthly"],
  ["yearly", "keep-yearly"],
] as const;
type Rule = (typeof RULES)[number][0];

/** KeepOptions::keeps_something(): all unset or 0 means "keep everything" to PBS's prune API and prune jobs. */
export const keepsSomething = (keep: KeepOptions): boolean => RULES.some(([k]) => (keep[k] ?? 0) > 0);

/**
 * What a PBS prune of one backup group does: compute_prune_info, plus the
 * callers' rule that options keeping nothing keep everything. Newest first.
 */
export function selectPrune<T extends PruneSnapshot>(
  list: readonly T[],
  keep: KeepOptions,
  timeZone: string,
): PruneDecision<T>[] {
  const info = computePruneInfo(list, keep, timeZone);
  if (keepsSomething(keep)) return info;
  return info.map((d) => (d.mark === "remove" ? { snapshot: d.snapshot, mark: "keep", reason: "keep-all" } : d));
}

/** pbs_datastore::prune::compute_prune_info, exactly: newest first, each snapshot with its mark. */
export function computePruneInfo<T extends PruneSnapshot>(
  list: readonly T[],
  keep: KeepOptions,
  timeZone: string,
): PruneDecision<T>[] {
  const sorted = [...list].sort((a, b) => b.time - a.time);
  const marks = new Map<T, { mark: PruneMark; reason?: KeepReason }>();
  removeIncompleteSnapshots(marks, sorted);
  const period = periodKeys(timeZone);
  for (const [rule, reason] of RULES) {
    const n = keep[rule];
    if (n !== undefined) markSelections(marks, sorted, n, (s) => period(rule, s.time), reason);
  }
  return sorted.map((snapshot) => {
    if (snapshot.protected) return { snapshot, mark: "protected", reason: "protected" };
    const m = marks.get(snapshot);
    return m && m.mark !== "remove" ? { snapshot, mark: m.mark, reason: m.reason! } : { snapshot, mark: "remove" };
  });
}

/** Only the newest snapshot may be unfinished (a backup running now); older unfinished ones go. */
function removeIncompleteSnapshots<T extends PruneSnapshot>(
  marks: Map<T, { mark: PruneMark; reason?: KeepReason }>,
  sorted: readonly T[],
): void {
  let keepUnfinished = true;
  for (const s of sorted) {
    if (!s.finished)
      marks.set(s, keepUnfinished ? { mark: "keep-partial", reason: "keep-partial" } : { mark: "remove" });
    keepUnfinished = false;
  }
}

/**
 * mark_selections: walk newest to oldest; periods already holding a snapshot
 * kept by an earlier rule do not count; the first snapshot of each new period
 * is kept until `keep` periods are counted; later ones of a counted period are
 * marked remove (and so not considered by later rules). Protected snapshots
 * are never counted (the result marks them protected).
 */
function markSelections<T extends PruneSnapshot>(
  marks: Map<T, { mark: PruneMark; reason?: KeepReason }>,
  sorted: readonly T[],
  keep: number,
  selectId: (s: T) => string,
  reason: KeepReason,
): void {
  const alreadyIncluded = new Set<string>();
  for (const s of sorted) if (marks.get(s)?.mark === "keep") alreadyIncluded.add(selectId(s));
  const included = new Set<string>();
  for (const s of sorted) {
    if (marks.has(s)) continue;
    if (s.protected) continue; // PBS marks it "protected" here; the result does (computePruneInfo)
    const id = selectId(s);
    if (alreadyIncluded.has(id)) continue;
    if (!included.has(id)) {
      if (included.size >= keep) break;
      included.add(id);
      marks.set(s, { mark: "keep", reason });
    } else {
      marks.set(s, { mark: "remove" });
    }
  }
}

interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** The period id of each rule, as PBS's strftime_local formats them ("%Y/%m/%d/%H", "%G/%V", ...). */
function periodKeys(timeZone: string): (rule: Rule, epoch: number) => string {
  const local = localTime(timeZone);
  return (rule, epoch) => {
    if (rule === "last") return String(epoch);
    const t = local(epoch);
    switch (rule) {
      case "hourly":
        return `${pad(t.year, 4)}/${pad(t.month)}/${pad(t.day)}/${pad(t.hour)}`;
      case "daily":
        return `${pad(t.year, 4)}/${pad(t.month)}/${pad(t.day)}`;
      case "weekly": {
        const w = isoWeek(t.year, t.month, t.day);
        return `${pad(w.year, 4)}/${pad(w.week)}`;
      }
      case "monthly":
        return `${pad(t.year, 4)}/${pad(t.month)}`;
      case "yearly":
        return pad(t.year, 4);
    }
  };
}

/** Throws RangeError for a zone Intl does not know; callers validate with isTimeZone first. */
export function localTime(timeZone: string): (epoch: number) => LocalTime {
  const fmt = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
  });
  return (epoch) => {
    const parts: Record<string, number> = {};
    for (const p of fmt.formatToParts(new Date(epoch * 1000))) parts[p.type] = Number(p.value); // and "literal": NaN, unused
    return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour! };
  };
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** ISO 8601 week of a calendar date: weeks start on Monday, week 1 holds the year's first Thursday. */
export function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const date = Date.UTC(year, month - 1, day);
  const weekday = (new Date(date).getUTCDay() + 6) % 7;
  const thursday = new Date(date + (3 - weekday) * 86_400_000);
  const isoYear = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(isoYear, 0, 1)) / (7 * 86_400_000));
  return { year: isoYear, week };
}
