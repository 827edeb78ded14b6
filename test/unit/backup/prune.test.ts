// The prune selection against PBS's own published test cases (ported from
// proxmox-backup tests/prune.rs) and lab's cases for time zones with daylight
// saving time, ISO week years, unfinished and protected snapshots.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { computePruneInfo, isoWeek, type KeepOptions, selectPrune } from "../../../src/backup/prune.ts";

type FixtureSnapshot = string | { time: string; finished?: boolean; protected?: boolean };
interface Fixture {
  source: string;
  function?: "compute_prune_info" | "prune";
  timezone: string;
  snapshots: FixtureSnapshot[];
  cases: {
    name?: string;
    keep: KeepOptions;
    timezone?: string;
    snapshots?: FixtureSnapshot[];
    expect: { keep?: string[]; remove?: string[] };
  }[];
}

const dir = new URL("../../fixtures/prune/", import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .sort();

const snapshot = (s: FixtureSnapshot) => {
  const o = typeof s === "string" ? { time: s } : s;
  return {
    label: o.time,
    time: Date.parse(o.time) / 1000,
    finished: o.finished ?? true,
    protected: o.protected ?? false,
  };
};

describe("prune fixtures", () => {
  it("has the PBS cases and lab's own", () => {
    expect(files.filter((f) => f.startsWith("pbs-test-"))).toHaveLength(4);
    expect(files.length).toBeGreaterThanOrEqual(8);
  });

  for (const file of files) {
    const fx = JSON.parse(readFileSync(new URL(file, dir), "utf8")) as Fixture;
    describe(file, () => {
      fx.cases.forEach((c, i) => {
        it(c.name ?? `case ${i + 1}: ${JSON.stringify(c.keep)}`, () => {
          const list = (c.snapshots ?? fx.snapshots).map(snapshot);
          const run = fx.function === "compute_prune_info" ? computePruneInfo : selectPrune;
          // PBS's tests list oldest first (they reverse compute_prune_info's newest-first result).
          const result = run(list, c.keep, c.timezone ?? fx.timezone).reverse();
          const kept = result.filter((d) => d.mark !== "remove").map((d) => d.snapshot.label);
          const removed = result.filter((d) => d.mark === "remove").map((d) => d.snapshot.label);
          expect(c.expect.keep ?? c.expect.remove).toBeDefined();
          if (c.expect.keep) expect(kept).toEqual(c.expect.keep);
          if (c.expect.remove) expect(removed).toEqual(c.expect.remove);
        });
      });
    });
  }
});

describe("prune marks and reasons", () => {
  const t = (iso: string, extra: { finished?: boolean; protected?: boolean } = {}) => ({
    time: Date.parse(iso) / 1000,
    finished: true,
    protected: false,
    ...extra,
  });

  it("names the rule that kept each snapshot, newest first", () => {
    const list = [
      t("2026-01-01T02:00:00Z"),
      t("2026-01-02T02:00:00Z"),
      t("2026-01-03T02:00:00Z", { protected: true }),
      t("2026-01-04T02:00:00Z", { finished: false }),
    ];
    expect(selectPrune(list, { last: 1, daily: 1 }, "UTC").map((d) => [d.mark, d.reason])).toEqual([
      ["keep-partial", "keep-partial"],
      ["protected", "protected"],
      ["keep", "keep-last"],
      ["keep", "keep-daily"],
    ]);
  });

  it("keeps all, with the reason keep-all, when no option keeps anything", () => {
    expect(selectPrune([t("2026-01-01T02:00:00Z")], {}, "UTC")).toEqual([
      { snapshot: t("2026-01-01T02:00:00Z"), mark: "keep", reason: "keep-all" },
    ]);
    expect(computePruneInfo([t("2026-01-01T02:00:00Z")], {}, "UTC")[0]!.mark).toBe("remove");
  });

  it("keeping all still says which snapshots are protected and which one is a backup in progress", () => {
    const list = [
      t("2026-01-01T02:00:00Z", { protected: true }),
      t("2026-01-02T02:00:00Z"),
      t("2026-01-03T02:00:00Z", { finished: false }),
    ];
    expect(selectPrune(list, { last: 0 }, "UTC").map((d) => [d.mark, d.reason])).toEqual([
      ["keep-partial", "keep-partial"],
      ["keep", "keep-all"],
      ["protected", "protected"],
    ]);
  });

  it("computes ISO weeks like strftime %G/%V", () => {
    expect(isoWeek(2021, 1, 1)).toEqual({ year: 2020, week: 53 });
    expect(isoWeek(2024, 12, 30)).toEqual({ year: 2025, week: 1 });
    expect(isoWeek(2026, 1, 1)).toEqual({ year: 2026, week: 1 });
    expect(isoWeek(2027, 1, 3)).toEqual({ year: 2026, week: 53 });
    expect(isoWeek(2026, 6, 15)).toEqual({ year: 2026, week: 25 });
  });
});
