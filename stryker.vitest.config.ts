import { defineConfig } from "vitest/config";

// The unit tier alone, for Stryker (vitest.config.ts's projects would pull in the integration
// tier). Generous timeout: mutants run while the machine is busy with other work.
export default defineConfig({ test: { include: ["test/unit/**/*.test.ts"], testTimeout: 30_000 } });
