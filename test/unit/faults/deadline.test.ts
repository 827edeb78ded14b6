// The fault suite's per-case deadline: a case that ends in time passes its result (or error)
// through; a stuck one becomes an error naming it.
import { describe, expect, it } from "vitest";
import { within } from "../../faults/deadline.ts";

describe("within", () => {
  it("passes through a result or an error that comes in time", async () => {
    expect(await within(1000, "case", Promise.resolve(7))).toBe(7);
    await expect(within(1000, "case", Promise.reject(new Error("boom")))).rejects.toThrow("boom");
  });

  it("names a stuck case once its time is up", async () => {
    const t0 = Date.now();
    await expect(within(50, "fault 3/52 kill -9 (attempt 1)", new Promise(() => undefined))).rejects.toThrow(
      "fault 3/52 kill -9 (attempt 1): still running after 0.05 s (stuck), the suite stops",
    );
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
