// Local wall-clock times in lab's tables (backup plan, prune preview, schedule): "YYYY-MM-DD
// HH:MM[:SS]" (sv-SE writes ISO-like dates; h23 so midnight is 00, not 24).

/**
 * A formatter for `timeZone` (undefined: this machine's); `offset` appends the zone's offset
 * ("GMT+1") where the zone alone is ambiguous; `seconds: false` stops at the minute.
 */
export function localTimeFormat(
  timeZone: string | undefined,
  o: { offset?: boolean; seconds?: boolean } = {},
): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat("sv-SE", {
    ...(timeZone ? { timeZone } : {}),
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    ...(o.seconds === false ? {} : { second: "2-digit" }),
    ...(o.offset ? { timeZoneName: "shortOffset" } : {}),
  });
}
