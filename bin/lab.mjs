#!/usr/bin/env node
// Entry point: register tsx so playbooks, roles and the engine load as TypeScript
// with no build step, then hand over to the CLI (the only place that exits).
//
// Loading takes about a second; a signal in that time would kill lab with Node's
// default action (no recap, no audit record). Hold it, and deliver it again once
// main() has installed its own handlers (synchronously, before its first await).
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"];
const early = [];
const hold = (sig) => early.push(sig);
for (const s of SIGNALS) process.on(s, hold);
const { register } = await import("tsx/esm/api");
register();
const { main } = await import("../src/cli/main.ts");
const running = main(process.argv.slice(2));
for (const s of SIGNALS) process.off(s, hold);
for (const s of early) process.kill(process.pid, s);
process.exitCode = await running;
// The command is over (its recap and audit record written) but the process may still be closing
// connections: a signal now ends it with the run's exit code instead of Node's default death.
for (const s of SIGNALS) process.on(s, () => process.exit());
