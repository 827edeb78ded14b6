// `lab sim`: prints what a client needs, never the token secret (that goes to a 0600 file).
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { simCommand } from "../../../src/sim/main.ts";

it("prints endpoint, fingerprint, CA file and token id, and keeps the secret in a file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "lab-simcmd-"));
  const lines: string[] = [];
  let stop!: () => void;
  const until = new Promise<void>((r) => (stop = r));
  const done = simCommand({ stateDir: dir, port: 0, pbsPort: false, print: (l) => lines.push(l), until });
  while (!lines.some((l) => l.includes("state:"))) await new Promise((r) => setTimeout(r, 10));
  stop();
  expect(await done).toBe(0);
  const secret = readFileSync(join(dir, "token-secret"), "utf8").trim();
  expect(secret).toMatch(/^[0-9a-f-]{36}$/);
  expect(statSync(join(dir, "token-secret")).mode & 0o777).toBe(0o600);
  expect(lines.join("\n")).not.toContain(secret);
  expect(lines[0]).toMatch(/^Proxmox VE simulator listening on https:\/\/127\.0\.0\.1:\d+\/api2\/json$/);
  expect(lines.join("\n")).toMatch(/TLS fingerprint \(SHA-256\): ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
  expect(lines.at(-1)).toBe("simulator stopped");
});
