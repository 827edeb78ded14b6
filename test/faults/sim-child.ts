// The Proxmox simulator as its own process, so the fault suite can kill -9 it mid-task.
// Prints one JSON line (url, caFile, tokenSecret) once it listens; state persists in DIR.
// Usage: node --import tsx test/faults/sim-child.ts DIR HOST PORT
import { startSimulator } from "../../src/sim/index.ts";

const [stateDir, host, port] = process.argv.slice(2);
if (!stateDir || !host || !port) throw new Error("usage: sim-child.ts DIR HOST PORT");
// Slow tasks (a few hundred ms per step) so that a kill lands while one runs.
const sim = await startSimulator({ stateDir, host, port: Number(port), taskDelayMs: 150, pbsPort: false });
process.stdout.write(`${JSON.stringify({ url: sim.url, caFile: sim.caFile, tokenSecret: sim.tokenSecret })}\n`);
process.once("SIGTERM", () => void sim.stop().then(() => process.exit(0)));
// The suite's process ended (a timeout, a crash): do not outlive it holding the port.
process.stdin.on("end", () => process.exit(0)).resume();
