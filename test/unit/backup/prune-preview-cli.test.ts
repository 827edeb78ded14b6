// `lab backup prune-preview` as a user runs it: node bin/lab.mjs on fixture
// files; output (table and --json) and exit codes (0, bad input 2).
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const repo = fileURLToPath(new URL("../../../", import.meta.url));
const fixture = (name: string) => `test/fixtures/prune/preview/${name}`;

async function lab(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ["bin/lab.mjs", "backup", "prune-preview", ...args], { cwd: repo });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe("lab backup prune-preview", () => {
  it("--json: keep (with protected and the newest unfinished) and remove, times exactly as written", async () => {
    const r = await lab(fixture("berlin-october.json"), "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      keep: [
        "2026-10-20T08:00:00Z",
        "2026-10-24T23:30:00Z",
        "2026-10-25T02:30:00+01:00",
        "2026-10-25T02:30:00Z",
        "2026-10-25T03:10:00Z",
      ],
      remove: ["2026-10-25T00:30:00Z"],
    });
  });

  it("prints a table: time, local time, keep/remove and the rule that kept it", async () => {
    const r = await lab(fixture("berlin-october.json"));
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^TIME\s+LOCAL \(Europe\/Berlin\)\s+ACTION\s+KEPT BY$/);
    expect(lines[1]).toMatch(/^2026-10-20T08:00:00Z\s+2026-10-20 10:00:00 GMT\+2\s+keep\s+protected$/);
    expect(lines[3]).toMatch(/^2026-10-25T00:30:00Z\s+2026-10-25 02:30:00 GMT\+2\s+remove$/);
    expect(lines[4]).toMatch(/^2026-10-25T02:30:00\+01:00\s+2026-10-25 02:30:00 GMT\+1\s+keep\s+keep-hourly$/);
    expect(lines[6]).toMatch(/^2026-10-25T03:10:00Z\s+.*keep\s+keep-partial, unfinished$/);
    expect(r.stdout).toContain("5 kept, 1 removed");
  });

  it.each([
    ["bad-json.json", /bad-json\.json:4:3: invalid YAML/],
    [
      "bad-keep.json",
      /bad-keep\.json:2:25: keep\.weekley: unknown key "weekley"\n  hint: allowed keys here: last, hourly, daily, weekly, monthly, yearly/,
    ],
    ["bad-timezone.json", /bad-timezone\.json:3:15: timezone: unknown time zone "Europe\/Bonn"/],
    [
      "duplicate-time.json",
      /duplicate-time\.json:6:15: snapshots\.1\.time: "2026-01-01T03:00:00\+01:00" is the same backup time as snapshots\.0/,
    ],
    ["missing.json", /cannot read .*missing\.json: ENOENT/],
  ])("%s: exit 2 with file:line:col", async (name, message) => {
    const r = await lab(fixture(name), "--json");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
  });

  it("a missing FILE argument is a usage error (exit 2)", async () => {
    const r = await lab();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("missing required argument 'file'");
  });
});
