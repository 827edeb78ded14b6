import { defineConfig } from "vitest/config";

// The unit tier alone, for Stryker (vitest.config.ts's projects would pull in the integration tier).
export default defineConfig({ test: { include: ["test/unit/**/*.test.ts"] } });
