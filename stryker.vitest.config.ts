import { defineConfig } from "vitest/config";

// For Stryker: the unit tests that exercise the mutated modules (the whole unit tier
// takes ~20 s per mutant here; these are where a regression in them must be caught).
// Generous timeout: mutants run while the machine is busy with other work.
export default defineConfig({
  test: {
    include: [
      "test/unit/sh*.test.ts",
      "test/unit/secrets/**/*.test.ts",
      "test/unit/audit/**/*.test.ts",
      "test/unit/lock/**/*.test.ts",
      "test/unit/transport/**/*.test.ts",
      "test/unit/resources/write-file*.test.ts",
      "test/unit/resources/local.test.ts",
      "test/unit/resources/diff.fixtures.test.ts",
      "test/unit/backup/**/*.test.ts",
    ],
    testTimeout: 30_000,
  },
});
