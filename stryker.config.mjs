// Mutation testing of the security-critical modules against their unit tests
// (`npm run mutation`, scripts/mutation.sh; scores in docs/mutation.md). Not part of
// `npm test`: a full run takes minutes.
import { existsSync } from "node:fs";

const modules = [
  "src/sh.ts",
  "src/transport/known-hosts.ts",
  "src/resources/write-file.ts",
  "src/secrets/secret.ts",
  "src/engine/lock.ts",
  // Built on another branch; mutated once it is on main.
  "src/backup/prune.ts",
].filter((f) => existsSync(f));

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner"],
  vitest: { configFile: "stryker.vitest.config.ts" },
  mutate: process.env.LAB_MUTATE ? process.env.LAB_MUTATE.split(",") : modules,
  coverageAnalysis: "perTest",
  concurrency: 2,
  timeoutMS: 20_000,
  reporters: ["clear-text", "progress", "json"],
  jsonReporter: { fileName: ".lab/mutation/mutation.json" },
  tempDirName: ".lab/mutation/tmp",
  cleanTempDir: "always",
  thresholds: { high: 90, low: 80, break: null },
};
