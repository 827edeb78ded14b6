// Local wall-clock times in the backup tables (plan, prune preview): "YYYY-MM-DD HH:MM:SS" in
// the given IANA zone (sv-SE writes ISO-like dates; h23 so midnight is 00, not 24).

/** A formatter for `timeZone`; `offset` appends the zone's offset ("GMT+1") where the zone alone is ambiguous. */
export function localTimeFormat(timeZone: string, o: { offset?: boolean } = {}): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat("sv-SE", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    ...(o.offset ? { timeZoneName: "shortOffset" } : {}),
  });
}
