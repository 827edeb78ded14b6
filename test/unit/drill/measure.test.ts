// RPO, RTO and the WAL-gap verdict of a drill (pure), and what counts as the
// drill touching production's repositories.
import { describe, expect, it } from "vitest";
import {
  lsnValue,
  mbPerSec,
  rpoFindings,
  rtoFindings,
  rtoOf,
  segmentBefore,
  walGap,
} from "../../../src/drill/measure.ts";
import { foreignFiles } from "../../../src/drill/repository.ts";
import { compareSums } from "../../../src/drill/marker.ts";

const seg = (tl: number, n: number) =>
  `${tl.toString(16).padStart(8, "0").toUpperCase()}00000000${n.toString(16).padStart(8, "0").toUpperCase()}`;
const listing = (names: string[]) =>
  Object.fromEntries(names.map((n) => [`15-1/0000000100000000/${n}-${"a".repeat(40)}.zst`, { type: "file" }]));

describe("measurements", () => {
  it("LSNs and the segment before a switch point", () => {
    expect(lsnValue("1/0")).toBe(1n << 32n);
    expect(segmentBefore("0/5000000", 1).name).toBe(seg(1, 4)); // a boundary belongs to the previous segment
    expect(segmentBefore("0/5000028", 1).name).toBe(seg(1, 5));
    expect(segmentBefore("1/1000000", 2).name).toBe("000000020000000100000000");
    expect(() => lsnValue("nope")).toThrow(/not an LSN/);
  });

  it("RTO is the sum of its phases; MB/s of the copy", () => {
    expect(rtoOf({ copySec: 10, startSec: 2, replaySec: 3, checksSec: 5 })).toBe(20);
    expect(mbPerSec(50 * 1_048_576, 10)).toBe(5);
    expect(mbPerSec(1, 0)).toBe(0);
    expect(rtoFindings(20, 30)).toEqual([]);
    expect(rtoFindings(3700, 3600)).toEqual(["RTO 1h1m40s exceeds the policy's 1h"]);
  });

  it("RPO is the declared failure minus the newest surviving heartbeat", () => {
    expect(rpoFindings({ failureAtSec: 1000, newestHeartbeatSec: 998.5, rpoPolicySec: 60 })).toEqual({
      rpoSec: 1.5,
      problems: [],
    });
    const late = rpoFindings({ failureAtSec: 1000, newestHeartbeatSec: 900, rpoPolicySec: 60 });
    expect(late.rpoSec).toBe(100);
    expect(late.problems[0]).toMatch(
      /^RPO 1m40s exceeds the policy's 1m: the newest surviving heartbeat is from 1970-01-01T00:15:00.000Z$/,
    );
    expect(rpoFindings({ failureAtSec: 1000, newestHeartbeatSec: undefined, rpoPolicySec: 60 }).problems[0]).toMatch(
      /no heartbeat of this drill survived/,
    );
  });

  it("a recovery that reached the archive's end passes; one that stopped at a hole names the missing segment", () => {
    const all = listing([seg(1, 3), seg(1, 4), seg(1, 5), seg(1, 6), seg(1, 7)]);
    expect(walGap({ endLsn: "0/8000000", endTimeline: 2, listing: all, fromSegment: seg(1, 3) })).toBeUndefined();
    const holed = listing([seg(1, 3), seg(1, 4), seg(1, 6), seg(1, 7)]);
    expect(walGap({ endLsn: "0/5000000", endTimeline: 2, listing: holed, fromSegment: seg(1, 3) })).toBe(
      `recovery stopped at 0/5000000 (segment ${seg(1, 4)}) but the repository's archive reaches ${seg(1, 7)}: missing WAL segment ${seg(1, 5)}`,
    );
    // Stopped early with nothing missing from the listing: still a failure (a damaged segment).
    expect(walGap({ endLsn: "0/5000000", endTimeline: 2, listing: all, fromSegment: seg(1, 3) })).toMatch(
      /no segment is missing from the listing/,
    );
  });

  it("checksums: every difference named per table", () => {
    const want = { "public.a": { rows: 2, sum: "10" }, "public.b": { rows: 1, sum: "5" } };
    expect(compareSums(want, { "public.a": { rows: 2, sum: "10" }, "public.b": { rows: 1, sum: "5" } })).toEqual([]);
    expect(compareSums(want, { "public.a": { rows: 2, sum: "11" } })).toEqual([
      "public.a: 2 rows (checksum 11) in the copy, 2 rows (checksum 10) at the marker",
      "public.b: missing in the copy",
    ]);
  });
});

describe("production untouched", () => {
  const before = listing([seg(1, 3), seg(1, 4)]);
  it("allows production's own new WAL and .backup files on its timeline", () => {
    const after = {
      ...before,
      ...listing([seg(1, 5)]),
      [`15-1/0000000100000000/${seg(1, 5)}.00000028.backup`]: { type: "file" },
      "15-1/0000000100000000": { type: "path" },
    };
    expect(foreignFiles(before, after, 1)).toEqual([]);
  });
  it("flags a history file, WAL of another timeline, and a new archive directory", () => {
    const after = {
      ...before,
      "15-1/00000002.history": { type: "file" },
      [`15-1/0000000200000000/${seg(2, 5)}-${"b".repeat(40)}.zst`]: { type: "file" },
      [`15-2/0000000100000000/${seg(1, 5)}-${"c".repeat(40)}`]: { type: "file" },
    };
    expect(foreignFiles(before, after, 1)).toEqual([
      "15-1/00000002.history",
      `15-1/0000000200000000/${seg(2, 5)}-${"b".repeat(40)}.zst`,
      `15-2/0000000100000000/${seg(1, 5)}-${"c".repeat(40)}`,
    ]);
  });
});
