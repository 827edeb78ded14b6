// Child process for the lock tests: takes the lock, says so, then holds it
// ("hold": until killed), exits without calling release() ("exit"), or, like the
// runner, handles SIGTERM itself and winds down before exiting ("graceful").
import { acquireLock } from "../../../src/engine/lock.ts";

const [root, mode] = process.argv.slice(2);
await acquireLock({ root: root ?? ".", command: "lab apply site.ts (child)" });
process.stdout.write("locked\n");
if (mode === "exit") process.exit(0);
if (mode === "graceful") {
  process.on("SIGTERM", () => {
    process.stdout.write("stopping\n");
    setTimeout(() => process.exit(130), 300);
  });
}
setInterval(() => undefined, 60_000);
