// lab's host-key decision against a real host equals OpenSSH's: for each
// known_hosts file of a table, `ssh -o StrictHostKeyChecking=yes` (BatchMode, this
// file only) logs in exactly when lab connects.
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { TestLab } from "../hosts/hosts.ts";
import { connectSsh } from "../../src/transport/ssh.ts";
import { startTransportHosts } from "./transport-hosts.ts";

let lab: TestLab;
beforeAll(async () => {
  lab = await startTransportHosts(["t1", "t2"]);
}, 120_000);
afterAll(async () => {
  await lab?.stop();
});

function openssh(knownHosts: string, address: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    execFile(
      "ssh",
      [
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "CheckHostIP=no",
        "-o",
        "ConnectTimeout=10",
        "-o",
        "IdentitiesOnly=yes",
        "-i",
        lab.keyFile,
        "-p",
        String(port),
        `root@${address}`,
        "true",
      ],
      { timeout: 30_000 },
      (err) => done(!err),
    );
  });
}

async function lab_(knownHosts: string, address: string, port: number): Promise<boolean> {
  try {
    const s = await connectSsh("t1", {
      type: "ssh",
      address,
      port,
      user: "root",
      keyFile: lab.keyFile,
      knownHosts,
      become: false,
      connectTimeoutMs: 10_000,
    });
    s.dispose();
    return true;
  } catch {
    return false;
  }
}

// Lines with A (t1's address), K (t1's key), O (another host's key).
const table: [string, string[], boolean][] = [
  ["pinned as [addr]:port", ["[A]:2222 K"], true],
  ["pinned under the bare address only (ssh falls back to it)", ["A K"], true],
  ["another key under the bare address only", ["A O"], false],
  ["the bare address pins it, but [addr]:port pins another", ["A K", "[A]:2222 O"], false],
  ["@revoked under [addr]:port, pinned under the bare address", ["A K", "@revoked [A]:2222 K"], false],
  ["another key", ["[A]:2222 O"], false],
  ["wildcard", ["[127.0.31.*]:2222 K"], true],
  ["question mark", ["[127.0.31.?]:2222 K"], true],
  ["negated on the same line", ["[127.0.31.*]:2222,![A]:2222 K"], false],
  ["negated line, then a plain pin", ["*,![A]:2222 O", "[A]:2222 K"], true],
  ["@revoked and pinned", ["[A]:2222 K", "@revoked * K"], false],
  ["@revoked another key", ["[A]:2222 K", "@revoked * O"], true],
  ["@cert-authority only", ["@cert-authority * K"], false],
  ["an unknown marker", ["@foo [A]:2222 K"], false],
  ["the right key and another one", ["[A]:2222 O", "[A]:2222 K"], true],
  ["commented out", ["# [A]:2222 K"], false],
];

it.each(table)("%s: lab connects exactly when ssh does", async (_name, lines, accepted) => {
  const t1 = lab.hosts[0]!;
  const file = join(lab.stateDir, "known_hosts.table");
  const text = lines
    .map((l) =>
      l
        .replace("[A]", `[${t1.address}]`)
        .replace(/^A /, `${t1.address} `)
        .replace("@revoked [A]", `@revoked [${t1.address}]`)
        .replace(/ K$/, ` ${t1.hostKeyPub}`)
        .replace(/ O$/, ` ${lab.hosts[1]!.hostKeyPub}`),
    )
    .join("\n");
  await writeFile(file, `${text}\n`);
  const ssh = await openssh(file, t1.address, t1.port);
  expect(ssh, "OpenSSH's verdict (the table is wrong if this fails)").toBe(accepted);
  expect(await lab_(file, t1.address, t1.port)).toBe(ssh);
  // Hashed by ssh-keygen -H where it can (plain pins only): same verdicts.
  if (lines.every((l) => !l.startsWith("@foo"))) {
    await new Promise<void>((done) => execFile("ssh-keygen", ["-q", "-H", "-f", file], () => done()));
    const hashed = await readFile(file, "utf8");
    expect(await openssh(file, t1.address, t1.port)).toBe(accepted);
    expect(await lab_(file, t1.address, t1.port), hashed).toBe(accepted);
  }
});
