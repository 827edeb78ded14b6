#!/usr/bin/env node
// Entry point: register tsx so playbooks, roles and the engine load as TypeScript
// with no build step, then hand over to the CLI (the only place that exits).
import { register } from "tsx/esm/api";
register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
