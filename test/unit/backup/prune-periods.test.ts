// The calendar periods the prune selection counts in, in the server's time zone:
// hours on a 24-hour clock (midnight and noon are different hours), and which
// zone names are accepted.
import { describe, expect, it } from "vitest";
import { isTimeZone, localTime, selectPrune } from "../../../src/backup/prune.ts";

const at = (iso: string) => Date.parse(iso) / 1000;

describe("localTime", () => {
  it("gives the local calendar date and the hour 0-23", () => {
    expect(localTime("UTC")(at("2026-03-01T00:30:00Z"))).toEqual({ year: 2026, month: 3, day: 1, hour: 0 });
    expect(localTime("UTC")(at("2026-03-01T12:30:00Z"))).toEqual({ year: 2026, month: 3, day: 1, hour: 12 });
    expect(localTime("Asia/Kolkata")(at("2026-12-31T18:29:00Z"))).toEqual({ year: 2026, month: 12, day: 31, hour: 23 });
    expect(localTime("Asia/Kolkata")(at("2026-12-31T18:30:00Z"))).toEqual({ year: 2027, month: 1, day: 1, hour: 0 });
  });

  it("midnight and noon are two hours for keep-hourly", () => {
    const s = (iso: string) => ({ time: at(iso), finished: true, protected: false });
    const list = [s("2026-03-01T00:30:00Z"), s("2026-03-01T12:30:00Z"), s("2026-03-01T12:40:00Z")];
    expect(selectPrune(list, { hourly: 2 }, "UTC").map((d) => d.mark)).toEqual(["keep", "remove", "keep"]);
  });
});

describe("isTimeZone", () => {
  it("accepts IANA names Intl knows and refuses others", () => {
    for (const z of ["UTC", "Europe/Berlin", "America/New_York"]) expect(isTimeZone(z), z).toBe(true);
    for (const z of ["Mars/Olympus_Mons", "", "Europe/"]) expect(isTimeZone(z), z).toBe(false);
  });
});
