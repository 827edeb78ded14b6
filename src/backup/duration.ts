// Durations as people write them in a policy: "60s", "15m", "2h", "7d", "1w", "1h30m".
const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** The JSON Schema pattern for a duration (the policy schema uses it). */
export const DURATION_PATTERN = "^([0-9]+[smhdw])+$";

/** Seconds in a duration string; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!new RegExp(DURATION_PATTERN).test(text)) return undefined;
  let total = 0;
  for (const [, n, u] of text.matchAll(/([0-9]+)([smhdw])/g)) total += Number(n) * UNIT[u!]!;
  return total;
}

/** "3600" -> "1h", "90" -> "1m30s": the shortest exact form, for messages. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  let s = Math.round(seconds);
  if (s === 0) return "0s";
  const sign = s < 0 ? "-" : "";
  s = Math.abs(s);
  let out = "";
  for (const [u, n] of [
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    if (s >= n) {
      out += `${Math.floor(s / n)}${u}`;
      s %= n;
    }
  }
  return sign + out;
}
