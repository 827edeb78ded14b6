// `lab sim`: run the simulator in the foreground until SIGINT/SIGTERM, printing
// what a client needs (URL, fingerprint, CA file, token id; the secret only into a file).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startSimulator, type GuestBackend } from "./index.ts";

export interface SimCommandOptions {
  /** Default .lab/sim */
  readonly stateDir?: string;
  /** Default 8006; 0 = random. */
  readonly port?: number;
  readonly host?: string;
  /** Cluster nodes (default: pve; missing ones are added to an existing state). */
  readonly nodes?: readonly string[];
  readonly taskDelayMs?: number;
  readonly pbsPort?: number | false;
  readonly guestBackend?: GuestBackend;
  /** Print every request. */
  readonly verbose?: boolean;
  /** Where the lines go (default stdout). */
  readonly print?: (line: string) => void;
  /** Resolves when the simulator should stop (default: SIGINT/SIGTERM). */
  readonly until?: Promise<unknown>;
}

/** Runs until stopped; resolves with exit code 0. */
export async function simCommand(opts: SimCommandOptions = {}): Promise<number> {
  const print = opts.print ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const stateDir = opts.stateDir ?? ".lab/sim";
  const sim = await startSimulator({
    stateDir,
    port: opts.port ?? 8006,
    host: opts.host,
    ...(opts.nodes ? { nodes: opts.nodes } : {}),
    taskDelayMs: opts.taskDelayMs,
    pbsPort: opts.pbsPort,
    guestBackend: opts.guestBackend,
    log: opts.verbose ? print : undefined,
  });
  const secretFile = join(stateDir, "token-secret");
  writeFileSync(secretFile, `${sim.tokenSecret}\n`, { mode: 0o600 });
  print(`Proxmox VE simulator listening on ${sim.url}/api2/json`);
  if (sim.pbsUrl) print(`Proxmox Backup Server simulator on ${sim.pbsUrl}/api2/json`);
  print(`  TLS fingerprint (SHA-256): ${sim.fingerprint}`);
  print(`  CA file:                   ${sim.caFile}`);
  print(`  API token:                 ${sim.tokenId} (secret in ${secretFile})`);
  print(`  nodes:                     ${sim.state.nodes.join(", ")}`);
  print(`  state:                     ${join(stateDir, "state.json")}`);
  await (opts.until ??
    new Promise((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    }));
  await sim.stop();
  print("simulator stopped");
  return 0;
}
