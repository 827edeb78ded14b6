// pgbackrest verify's text report (recorded from 2.45: it exits 0 even for `status: error`).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseVerify } from "../../../src/backup/verify.ts";

const fx = (f: string) => readFileSync(join(import.meta.dirname, "../../fixtures/pgbackrest", f), "utf8");

describe("parseVerify", () => {
  it("an intact repository is ok", () => {
    expect(parseVerify(fx("verify-missing-wal.txt"))).toEqual({ ok: true, findings: [] });
  });
  it("a flipped byte in a backup file: the damaged backups are named", () => {
    expect(parseVerify(fx("verify-missing-wal-corrupt-file.txt"))).toEqual({
      ok: false,
      findings: [
        "backup: 20261201-202210F is invalid",
        "backup: 20261201-202210F: 1 with a wrong checksum",
        "backup: 20261201-202210F_20261201-202214D is invalid",
        "backup: 20261201-202210F_20261201-202214D: 1 with a wrong checksum",
      ],
    });
  });
  it("no report at all is not ok", () => {
    expect(parseVerify("ERROR: [055]: unable to load info file")).toEqual({
      ok: false,
      findings: ["no verify report: ERROR: [055]: unable to load info file"],
    });
  });
});
