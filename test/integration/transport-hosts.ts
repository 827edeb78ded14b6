// The transport tests' own sshd hosts (prefix lab-it-transport, 127.0.31.x) and
// the fault injectors they use on them: freeze sshd, kill a TCP connection,
// stop a remote process.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { startHosts, type TestLab } from "../hosts/hosts.ts";
import { inHost } from "./project.ts";

const run = promisify(execFile);

export const startTransportHosts = (names: string[]): Promise<TestLab> =>
  startHosts({ prefix: "lab-it-transport", names, subnet: "127.0.31", stateDir: ".lab/it-transport" });

/** SIGSTOP (or SIGCONT) every sshd in the container: the listener and the logged-in sessions. */
export async function freezeSshd(container: string, frozen: boolean): Promise<void> {
  const r = await inHost(container, `pkill -${frozen ? "STOP" : "CONT"} -x sshd`);
  if (r.code !== 0) throw new Error(`pkill sshd in ${container}: ${r.stderr}`);
}

/** Kill this machine's TCP connections to address:port (the kernel resets them). */
export async function killConnections(address: string, port: number): Promise<void> {
  await run("ss", ["-K", "dst", address, "dport", "=", String(port)]);
}

export async function waitFor(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not met within ${ms / 1000} s: ${what}`);
}
