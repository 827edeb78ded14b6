#!/usr/bin/env node
// Entry point: run lab's own code built as JavaScript (dist/, see bin/build.mjs) when the
// build is fresh, else straight from src/ through tsx (slower start, same behaviour). Either
// way the user's TypeScript (playbooks, roles) loads through tsx, registered on first use.
// Then hand over to the CLI (the only place that exits).
//
// A signal while loading would kill lab with Node's default action (no recap, no audit
// record). Hold it, and deliver it again once main() has installed its own handlers
// (synchronously, before its first await).
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"];
const early = [];
let holding = true;
// Stays installed (a no-op once main runs): no moment of the process is left with Node's default
// action, which kills without a recap or an audit record; main's own handlers do the work.
const hold = (sig) => {
  if (holding) early.push(sig);
};
for (const s of SIGNALS) process.on(s, hold);
const { fresh } = await import("./build.mjs");
let main;
if (fresh()) {
  // Stack traces of lab's own code through dist/'s source maps: src/ positions.
  process.setSourceMapsEnabled(true);
  ({ main } = await import("../dist/cli/main.js"));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../src/cli/main.ts"));
}
const running = main(process.argv.slice(2));
holding = false;
for (const s of early) process.kill(process.pid, s);
process.exitCode = await running;
// The command is over (its recap and audit record written) but the process may still be closing
// connections: a signal now ends it with the run's exit code instead of Node's default death.
for (const s of SIGNALS) process.on(s, () => process.exit());
