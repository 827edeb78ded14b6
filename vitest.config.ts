import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Playbooks and roles import the engine as "lab" (package.json exports; bin/lab.mjs maps it with a
// module hook): the same file for tests that load them.
const resolve = { alias: [{ find: /^lab$/, replacement: fileURLToPath(new URL("src/index.ts", import.meta.url)) }] };

// Two tiers: unit (fake transport, recorded replies; seconds) and integration
// (real sshd hosts in containers, real Docker, PostgreSQL; started once per run).
export default defineConfig({
  test: {
    projects: [
      // Some unit tests start the CLI as a process: seconds on a busy 2-core machine, not 5 s.
      { resolve, test: { name: "unit", include: ["test/unit/**/*.test.ts"], testTimeout: 30_000 } },
      {
        resolve,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/integration/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
