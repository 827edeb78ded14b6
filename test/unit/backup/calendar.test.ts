// Proxmox calendar events: the examples of PBS's "Calendar Events" documentation,
// the named events, errors, and the longest gap (what an RPO check needs).
import { describe, expect, it } from "vitest";
import { CalendarError, longestGap, nextEvent, parseCalendarEvent, wallClock } from "../../../src/backup/calendar.ts";

const at = (iso: string) => wallClock(new Date(iso), "UTC");
const fires = (ev: string, iso: string) => parseCalendarEvent(ev).matches(at(iso));

describe("calendar events", () => {
  it.each([
    // [event, an instant it fires at, an instant it does not]
    ["mon..fri", "2026-12-04T00:00:00Z", "2026-12-05T00:00:00Z"],
    ["sat,sun", "2026-12-05T00:00:00Z", "2026-12-04T00:00:00Z"],
    ["mon,wed,fri", "2026-12-02T00:00:00Z", "2026-12-01T00:00:00Z"],
    ["12:05", "2026-12-01T12:05:00Z", "2026-12-01T12:06:00Z"],
    ["*:00/5", "2026-12-01T07:35:00Z", "2026-12-01T07:36:00Z"],
    ["mon..wed *:30/10", "2026-11-30T09:40:00Z", "2026-11-30T09:20:00Z"],
    ["mon..fri 8..17,22:0/15", "2026-12-01T22:45:00Z", "2026-12-01T18:00:00Z"],
    ["fri 12..13:5/20", "2026-12-04T13:45:00Z", "2026-12-04T14:05:00Z"],
    ["12,14,16,18,20,22:5", "2026-12-01T16:05:00Z", "2026-12-01T15:05:00Z"],
    ["*/2:00", "2026-12-01T04:00:00Z", "2026-12-01T05:00:00Z"],
    ["2026-12-01", "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z"],
    ["*-12-31 23:59", "2026-12-31T23:59:00Z", "2026-12-30T23:59:00Z"],
    ["02:30", "2026-12-01T02:30:00Z", "2026-12-01T03:30:00Z"],
    ["hourly", "2026-12-01T05:00:00Z", "2026-12-01T05:01:00Z"],
    ["daily", "2026-12-01T00:00:00Z", "2026-12-01T01:00:00Z"],
    ["weekly", "2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z"],
    ["monthly", "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z"],
    ["quarterly", "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"],
    ["sun..tue", "2026-11-30T00:00:00Z", "2026-12-02T00:00:00Z"],
  ])("%s", (ev, yes, no) => {
    expect(fires(ev, yes)).toBe(true);
    expect(fires(ev, no)).toBe(false);
  });

  it.each(["", "noday", "25:00", "mon 12:60", "*-13-01", "1..", "mon..fri 8..17 extra", "a:b:c:d"])(
    "%j is refused",
    (ev) => {
      expect(() => parseCalendarEvent(ev)).toThrow(CalendarError);
    },
  );

  it("measures the longest gap between runs, in the schedule's time zone", () => {
    const from = new Date("2026-12-01T00:00:00Z");
    expect(longestGap(parseCalendarEvent("*:0/15"), "UTC", from, 2)).toBe(900);
    expect(longestGap(parseCalendarEvent("hourly"), "UTC", from, 2)).toBe(3600);
    expect(longestGap(parseCalendarEvent("02:30"), "UTC", from, 7)).toBe(86_400);
    // mon..fri: Friday's run to Monday's is three days.
    expect(longestGap(parseCalendarEvent("mon..fri 02:30"), "UTC", from, 14)).toBe(3 * 86_400);
    expect(longestGap(parseCalendarEvent("monthly"), "UTC", from, 20)).toBe(Infinity);
    // Across the spring DST switch in Berlin, a daily 02:30 run does not exist on that day.
    expect(longestGap(parseCalendarEvent("02:30"), "Europe/Berlin", new Date("2026-03-27T00:00:00Z"), 4)).toBe(
      2 * 86_400 - 3600,
    );
  });
});

describe("nextEvent", () => {
  it("the first minute the event fires at or after a time, in the zone; none within the window", () => {
    expect(nextEvent(parseCalendarEvent("daily"), "Europe/Berlin", new Date("2026-12-01T12:00:00Z"))).toEqual(
      new Date("2026-12-01T23:00:00Z"),
    );
    expect(nextEvent(parseCalendarEvent("mon..fri 02:30"), "UTC", new Date("2026-12-05T12:00:00Z"))).toEqual(
      new Date("2026-12-07T02:30:00Z"),
    );
    expect(nextEvent(parseCalendarEvent("2030-01-01"), "UTC", new Date("2026-12-01T00:00:00Z"))).toBeUndefined();
  });

  it("zones whose offset is not whole hours, and a half-hour DST switch (Lord Howe)", () => {
    // Kathmandu is UTC+5:45: 02:30 there is 20:45 UTC the day before.
    expect(nextEvent(parseCalendarEvent("02:30"), "Asia/Kathmandu", new Date("2026-12-01T00:00:00Z"))).toEqual(
      new Date("2026-12-01T20:45:00Z"),
    );
    // Lord Howe: +10:30 in winter, +11 from the first Sunday of October (02:00 -> 02:30).
    expect(nextEvent(parseCalendarEvent("02:30"), "Australia/Lord_Howe", new Date("2026-10-03T12:00:00Z"))).toEqual(
      new Date("2026-10-03T15:30:00Z"),
    );
    expect(nextEvent(parseCalendarEvent("02:30"), "Australia/Lord_Howe", new Date("2026-10-02T12:00:00Z"))).toEqual(
      new Date("2026-10-02T16:00:00Z"),
    );
    expect(longestGap(parseCalendarEvent("*:0/15"), "Asia/Kathmandu", new Date("2026-12-01T00:00:00Z"), 1)).toBe(900);
  });
});
