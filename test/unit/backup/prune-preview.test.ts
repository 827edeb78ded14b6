// The preview file's checks (positions, times) without a process.
import { describe, expect, it } from "vitest";
import { LabError } from "../../../src/errors.ts";
import { parsePreview, previewJson, previewPrune } from "../../../src/backup/prune-preview.ts";

const fail = (text: string): string => {
  try {
    parsePreview("f.json", text);
  } catch (e) {
    expect(e).toBeInstanceOf(LabError);
    expect((e as LabError).code).toBe(2);
    return (e as LabError).format();
  }
  throw new Error("no error");
};

describe("prune-preview file", () => {
  it("rejects a time without a zone and an impossible date, with their positions", () => {
    expect(fail('{"keep": {}, "timezone": "UTC",\n"snapshots": [{"time": "2026-01-01T02:00:00"}]}')).toMatch(
      /^f\.json:2:24: snapshots\.0\.time: not an RFC 3339 time/,
    );
    expect(fail('{"keep": {}, "timezone": "UTC",\n"snapshots": [{"time": "2026-13-01T02:00:00Z"}]}')).toMatch(
      /^f\.json:2:24: snapshots\.0\.time: not a valid date\/time/,
    );
  });

  it("rejects negative counts and missing keys", () => {
    expect(fail('{"keep": {"daily": -1}, "timezone": "UTC", "snapshots": []}')).toMatch(
      /^f\.json:1:20: keep\.daily: must be >= 0/,
    );
    expect(fail('{"keep": {}, "snapshots": []}')).toMatch(/missing required key "timezone"/);
  });

  it("accepts YAML too, and offsets other than Z", () => {
    const input = parsePreview(
      "f.yaml",
      "keep: {last: 1}\ntimezone: UTC\nsnapshots:\n  - time: 2026-01-01T03:00:00+01:00\n  - time: 2026-01-01T01:00:00Z\n",
    );
    expect(previewJson(previewPrune(input))).toEqual({
      keep: ["2026-01-01T03:00:00+01:00"],
      remove: ["2026-01-01T01:00:00Z"],
    });
  });
});
