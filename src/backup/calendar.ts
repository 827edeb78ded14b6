// Proxmox calendar events (the schedules of vzdump, prune, verify, GC and sync jobs):
// `[WEEKDAY] [[YEARS-]MONTHS-DAYS] [HOURS:MINUTES[:SECONDS]]`, each field a list of
// values, ranges `a..b` and repetitions `a/b` (or `*`), plus the named events
// (hourly, daily, ...). Semantics of proxmox-time's parser (docs: PBS "Calendar
// Events"): no weekday/date = every day; no time = 00:00; one time field = minutes.
// Used to check a policy's schedule against its RPO (the longest gap between runs).

export interface CalendarEvent {
  readonly text: string;
  /** Does the event fire at this minute (wall-clock fields in the schedule's zone)? */
  matches(t: { weekday: number; year: number; month: number; day: number; hour: number; minute: number }): boolean;
}

const NAMED: Record<string, string> = {
  minutely: "*-*-* *:*:00",
  hourly: "*-*-* *:00:00",
  daily: "*-*-* 00:00:00",
  weekly: "mon *-*-* 00:00:00",
  monthly: "*-*-01 00:00:00",
  yearly: "*-01-01 00:00:00",
  annually: "*-01-01 00:00:00",
  quarterly: "*-01,04,07,10-01 00:00:00",
  semiannually: "*-01,07-01 00:00:00",
  "semi-annually": "*-01,07-01 00:00:00",
};
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

type Field = (v: number) => boolean;
const ANY: Field = () => true;

export class CalendarError extends Error {}

/** One field: `*`, or a comma list of `n`, `a..b`, `a/step`, `a..b/step`. */
function field(text: string, min: number, max: number, what: string): Field {
  if (text === "*") return ANY;
  const parts = text.split(",").map((p) => {
    const m = /^(\*|\d+)(?:\.\.(\d+))?(?:\/(\d+))?$/.exec(p);
    if (!m) throw new CalendarError(`invalid ${what} "${p}"`);
    const start = m[1] === "*" ? min : Number(m[1]);
    const end = m[2] !== undefined ? Number(m[2]) : m[3] !== undefined || m[1] === "*" ? max : start;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (start < min || end > max || start > end || step < 1)
      throw new CalendarError(`${what} "${p}" is out of range ${min}..${max}`);
    return (v: number) => v >= start && v <= end && (v - start) % step === 0;
  });
  return (v) => parts.some((f) => f(v));
}

function weekdays(text: string): Field {
  const set = new Set<number>();
  for (const p of text.split(",")) {
    const [a, b] = p.split("..");
    const i = DAYS.indexOf(a!.slice(0, 3));
    const j = b === undefined ? i : DAYS.indexOf(b.slice(0, 3));
    if (i < 0 || j < 0) throw new CalendarError(`invalid weekday "${p}"`);
    // mon..sun wraps through the week as written.
    for (let d = i; ; d = (d + 1) % 7) {
      set.add(d);
      if (d === j) break;
    }
  }
  return (v) => set.has(v);
}

export function parseCalendarEvent(input: string): CalendarEvent {
  const text = input.trim();
  const words = (NAMED[text.toLowerCase()] ?? text).split(/\s+/).filter(Boolean);
  if (words.length === 0) throw new CalendarError("empty calendar event");
  let wd: Field = ANY;
  let year: Field = ANY;
  let month: Field = ANY;
  let day: Field = ANY;
  let hour: Field = (h) => h === 0;
  let minute: Field = (m) => m === 0;
  let second: Field = (s) => s === 0;
  let rest = words;
  if (/^[a-z]/i.test(rest[0]!)) {
    wd = weekdays(rest[0]!.toLowerCase());
    rest = rest.slice(1);
  }
  if (rest[0]?.includes("-")) {
    const d = rest[0].split("-");
    if (d.length === 3)
      [year, month, day] = [field(d[0]!, 1970, 9999, "year"), field(d[1]!, 1, 12, "month"), field(d[2]!, 1, 31, "day")];
    else if (d.length === 2) [month, day] = [field(d[0]!, 1, 12, "month"), field(d[1]!, 1, 31, "day")];
    else throw new CalendarError(`invalid date "${rest[0]}"`);
    rest = rest.slice(1);
  }
  if (rest[0] !== undefined) {
    const t = rest[0].split(":");
    if (t.length === 1) [hour, minute] = [ANY, field(t[0]!, 0, 59, "minute")];
    else if (t.length <= 3) {
      [hour, minute] = [field(t[0]!, 0, 23, "hour"), field(t[1]!, 0, 59, "minute")];
      second = t[2] !== undefined ? field(t[2], 0, 59, "second") : second;
    } else throw new CalendarError(`invalid time "${rest[0]}"`);
    rest = rest.slice(1);
  }
  if (rest.length) throw new CalendarError(`unexpected "${rest.join(" ")}"`);
  // Minute resolution: an event firing at some second of a minute fires in that minute.
  const anySecond = Array.from({ length: 60 }, (_, s) => s).some(second);
  if (!anySecond) throw new CalendarError("no second matches");
  return {
    text,
    matches: (t) => wd(t.weekday) && year(t.year) && month(t.month) && day(t.day) && hour(t.hour) && minute(t.minute),
  };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock fields of an instant in a time zone. */
export function wallClock(at: Date, timeZone: string) {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      weekday: "short",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
    });
    formatters.set(timeZone, f);
  }
  const parts = f.formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return {
    weekday: DAYS.indexOf(get("weekday").toLowerCase().slice(0, 3)),
    year: Number(get("year")),
    month: Number(get("month")),
    day: Number(get("day")),
    hour: Number(get("hour")),
    minute: Number(get("minute")),
  };
}

/**
 * Minute by minute through a time zone's wall clock, fast: the zone's UTC offset is read
 * (Intl, slow) once per quarter hour — every real offset and DST switch falls on a
 * quarter hour — and the wall clock of each minute is UTC plus that offset.
 */
function* minutes(timeZone: string, start: number, end: number): Generator<[number, ReturnType<typeof wallClock>]> {
  const QUARTER = 900_000;
  let block = Number.NaN;
  let offset = 0;
  for (let t = start; t < end; t += 60_000) {
    if (Math.floor(t / QUARTER) !== block) {
      block = Math.floor(t / QUARTER);
      const w = wallClock(new Date(t), timeZone);
      offset = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute) - t;
    }
    const d = new Date(t + offset);
    yield [
      t,
      {
        weekday: d.getUTCDay(),
        year: d.getUTCFullYear(),
        month: d.getUTCMonth() + 1,
        day: d.getUTCDate(),
        hour: d.getUTCHours(),
        minute: d.getUTCMinutes(),
      },
    ];
  }
}

/**
 * The longest time in seconds between two runs of `event` over `days` days from
 * `from` (minute steps, in `timeZone`), Infinity when it fires at most once.
 */
export function longestGap(event: CalendarEvent, timeZone: string, from: Date, days = 35): number {
  const start = Math.floor(from.getTime() / 60_000) * 60_000;
  let first: number | undefined;
  let prev: number | undefined;
  let gap = 0;
  for (const [t, wall] of minutes(timeZone, start, start + days * 86_400_000)) {
    if (!event.matches(wall)) continue;
    if (prev !== undefined) gap = Math.max(gap, (t - prev) / 1000);
    first ??= t;
    prev = t;
  }
  return first === undefined || prev === first ? Infinity : gap;
}

/** The first minute at or after `from` when `event` fires (in `timeZone`), within `days` days; undefined when it does not. */
export function nextEvent(event: CalendarEvent, timeZone: string, from: Date, days = 35): Date | undefined {
  const start = Math.ceil(from.getTime() / 60_000) * 60_000;
  for (const [t, wall] of minutes(timeZone, start, start + days * 86_400_000))
    if (event.matches(wall)) return new Date(t);
  return undefined;
}
