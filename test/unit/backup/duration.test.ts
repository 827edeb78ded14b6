import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../../src/backup/duration.ts";

describe("durations", () => {
  it.each([
    ["60s", 60],
    ["15m", 900],
    ["2h", 7200],
    ["7d", 604_800],
    ["1w", 604_800],
    ["1h30m", 5400],
    ["90d", 7_776_000],
  ])("%s = %d s", (t, s) => {
    expect(parseDuration(t)).toBe(s);
  });
  it.each(["", "60", "1.5h", "15 m", "h", "-1h", "1y"])("%j is not a duration", (t) => {
    expect(parseDuration(t)).toBeUndefined();
  });
  it.each([
    [0, "0s"],
    [60, "1m"],
    [90, "1m30s"],
    [3600, "1h"],
    [93_784, "1d2h3m4s"],
    [-120, "-2m"],
  ])("%d s reads %s", (s, t) => {
    expect(formatDuration(s)).toBe(t);
  });
});
