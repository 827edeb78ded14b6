// What the fault playbook writes in round N, shared by the playbook (which imports
// this file) and the invariants (which know every managed file's old and new sha256).
import { createHash } from "node:crypto";

export const BIG_PATH = "/srv/faults/big/data.bin";
export const SECRET_PATH = "/srv/faults/app/secret.conf";
export const CONFIG_PATH = "/srv/faults/app/daemon.conf";
export const BIG_BYTES = 10 * 1024 * 1024;
export const SERVICE = "labfaultd";
export const PACKAGE = "lab-faultpkg";
/** The stack on the Docker host (a Compose project name starting with labit-). */
export const STACK = "labit-faults";
/** Two secrets alternate by round, so every round rewrites the secret file. */
export const SECRET_NAMES = ["fault_secret_a", "fault_secret_b"] as const;
export const secretName = (round: number): string => SECRET_NAMES[round % 2]!;

const cache = new Map<number, string>();
/** 10 MiB that differ in every 64-byte line from one round to the next (a write is always in flight). */
export function bigContent(round: number): string {
  let text = cache.get(round);
  if (text === undefined) cache.set(round, (text = makeBig(round)));
  return text;
}

function makeBig(round: number): string {
  const line = `lab fault-injection round ${String(round).padStart(8, "0")} line `;
  const width = 64;
  const lines = BIG_BYTES / width;
  const parts: string[] = new Array<string>(lines);
  for (let i = 0; i < lines; i++) {
    const n = String(i).padStart(width - line.length - 1, "0");
    parts[i] = `${line}${n}\n`;
  }
  return parts.join("");
}

export const configContent = (round: number): string => `# labfaultd, round ${round}\nround=${round}\n`;
export const secretContent = (value: string, round: number): string => `round=${round}\npassword=${value}\n`;

export const sha256 = (text: string | Buffer): string => createHash("sha256").update(text).digest("hex");
