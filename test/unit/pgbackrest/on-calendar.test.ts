// A schedule is written once, in cron syntax; the timer gets systemd's OnCalendar=.
import { describe, expect, it } from "vitest";
import { onCalendar } from "../../../src/resources/scheduled-job.ts";

describe("onCalendar (cron fields -> systemd OnCalendar)", () => {
  it.each([
    ["30 1 * * 0", "Sun *-*-* 1:30:00"],
    ["30 1 * * 7", "Sun *-*-* 1:30:00"],
    ["30 1 * * 1-6", "Mon..Sat *-*-* 1:30:00"],
    ["0 3 * * 1,3,5", "Mon,Wed,Fri *-*-* 3:0:00"],
    ["*/15 * * * *", "*-*-* *:0/15:00"],
    ["5 */6 1 * *", "*-*-1 0/6:5:00"],
    ["0 0 1-7 1,7 *", "*-1,7-1..7 0:0:00"],
  ])("%s -> %s", (cron, calendar) => {
    expect(onCalendar(cron)).toBe(calendar);
  });

  it.each([
    ["@daily", /@keywords/],
    ["1-30/5 * * * *", /stepped range/],
    ["0 0 * * 8", /must be 0-7/],
    ["0 0 * JAN *", /cannot read "JAN"/],
    ["0 0 * *", /five cron fields/],
  ])("refuses %s with a clear message (exit 2)", (cron, message) => {
    try {
      onCalendar(cron);
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(message);
      expect((e as { code: number }).code).toBe(2);
    }
  });
});
