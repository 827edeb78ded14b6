// WAL names and archive gaps, on a listing recorded from a real pgBackRest 2.45 repository.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { archivedSegments, missingSegments, parseSegment, segmentName } from "../../../src/backup/wal.ts";

const listing = JSON.parse(
  readFileSync(join(import.meta.dirname, "../../fixtures/pgbackrest/repo-ls-archive-repo1.json"), "utf8"),
) as Record<string, { type: string }>;

describe("WAL segments", () => {
  it("parses names and orders them across log files", () => {
    expect(parseSegment("000000010000000000000004")).toEqual({ timeline: 1, seq: 4, name: "000000010000000000000004" });
    expect(parseSegment("0000000200000001000000FF-abc")?.seq).toBe(511);
    expect(segmentName(1, 256)).toBe("000000010000000100000000");
    expect(segmentName(2, 511)).toBe("0000000200000001000000FF");
    for (const bad of [
      "000000010000000000000002.00000028.backup".slice(0, 23),
      "00000001.history",
      "zz0000010000000000000004",
      "000000010000000000000004x",
    ])
      expect(parseSegment(bad)).toBeUndefined();
  });

  it("lists the archived segments of a real repository, without .backup files", () => {
    expect(archivedSegments(listing).map((s) => s.name)).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => segmentName(1, n)));
  });

  it("names every segment missing from the archive", () => {
    const segs = archivedSegments(listing);
    expect(missingSegments(segs, segmentName(1, 1), segmentName(1, 7))).toEqual([]);
    const without3 = Object.fromEntries(
      Object.entries(listing).filter(([k]) => !k.includes("/000000010000000000000003-")),
    );
    expect(missingSegments(archivedSegments(without3), segmentName(1, 2), segmentName(1, 7))).toEqual([
      "000000010000000000000003",
    ]);
    expect(missingSegments(segs, segmentName(1, 6), segmentName(1, 9))).toEqual([
      "000000010000000000000008",
      "000000010000000000000009",
    ]);
  });

  it("a promoted timeline continues the stream", () => {
    const segs = [parseSegment("000000010000000000000005")!, parseSegment("000000020000000000000006")!];
    expect(missingSegments(segs, "000000010000000000000005", "000000020000000000000006")).toEqual([]);
  });
});
