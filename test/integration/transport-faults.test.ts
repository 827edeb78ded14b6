// Connection faults on one host never crash lab: a frozen sshd (keepalive
// timeout), a killed TCP connection and a hung command each leave that host
// unreachable or failed with the command named, the other host finishes, and the
// run ends with its recap and audit record. A client that dies mid-upload (its
// connection killed, or lab itself kill -9ed) never installs a partial file.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TestLab } from "../hosts/hosts.ts";
import { LAB_BIN, changedCount, inHost, makeProject, type TestProject } from "./project.ts";
import { freezeSshd, killConnections, startTransportHosts, waitFor } from "./transport-hosts.ts";

let lab: TestLab;
let p: TestProject;
const t = (n: string) => lab.hosts.find((h) => h.name === n)!;
const BIG = 10 << 20;

// Each host runs the same steps; only t1 gets the slow command (ten seconds, or sleep 30 bounded by a 2 s timeout).
const PLAYBOOK = `
import { definePlaybook, inline, directory, file, command } from "@lab";
const big = Array.from({ length: ${BIG / 64} }, (_, i) => String(i).padStart(63, ".") + "\\n").join("");
export default definePlaybook({
  name: "faults",
  plays: [{
    name: "faults", hosts: "all",
    roles: (h) => [inline([
      directory({ path: "/srv/tf" }),
      ...(process.env.TF_BIG ? [file({ path: "/srv/tf/big", content: big })] : []),
      command({ command: "(" + (h.name === (process.env.TF_HOST ?? "t1") ? (process.env.TF_CMD ?? "true") : "true") + ") && touch /srv/tf/done", creates: "/srv/tf/done",
        ...(process.env.TF_TIMEOUT ? { timeout: Number(process.env.TF_TIMEOUT) } : {}) }),
      file({ path: "/srv/tf/after", content: "after\\n" }),
    ])],
  }],
});
`;
const bigSha = (() => {
  const text = Array.from({ length: BIG / 64 }, (_, i) => `${String(i).padStart(63, ".")}\n`).join("");
  return createHash("sha256").update(text).digest("hex");
})();

beforeAll(async () => {
  lab = await startTransportHosts(["t1", "t2"]);
  p = await makeProject(lab, { groups: {}, files: { "playbooks/site.ts": PLAYBOOK } });
}, 120_000);

afterAll(async () => {
  if (lab) await Promise.all(lab.hosts.map((h) => freezeSshd(h.container, false).catch(() => undefined)));
  await lab?.stop();
});

beforeEach(async () => {
  await Promise.all(
    lab.hosts.map((h) => inHost(h.container, "pkill -CONT -x sshd; pkill -CONT -x cat; rm -rf /srv/tf")),
  );
});

function startApply(env: Record<string, string>, args: string[] = []) {
  const child = spawn("node", [LAB_BIN, "-C", p.root, "apply", "-y", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

const exists = async (host: string, path: string) =>
  (await inHost(t(host).container, `test -e ${path} && echo y`)).stdout.trim() === "y";
const auditLines = async () =>
  (await readFile(join(p.root, ".lab/audit.jsonl"), "utf8").catch(() => "")).split("\n").filter(Boolean);

/** The invariants after a fault on t1: no crash, t1 reported as `status`, t2 finished, a recap and an audit record. */
async function expectSurvived(
  r: { code: number | null; stdout: string; stderr: string },
  status: "unreachable" | "failed",
  audits: number,
) {
  expect(r.code, r.stderr).toBe(status === "unreachable" ? 4 : 3);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(r.stderr).not.toContain("Unhandled");
  expect(r.stdout).toMatch(/RECAP \(faults/);
  expect(r.stdout).toMatch(new RegExp(`t1 +: .*${status}=1`));
  expect(r.stdout).toMatch(/t2 +: ok=\d+ changed=\d+ failed=0 unreachable=0/);
  expect(await exists("t2", "/srv/tf/after")).toBe(true);
  expect(await exists("t1", "/srv/tf/after")).toBe(false);
  const records = await auditLines();
  expect(records).toHaveLength(audits + 1);
  expect(JSON.parse(records.at(-1)!)).toMatchObject({ outcome: status, exitCode: status === "unreachable" ? 4 : 3 });
}

/** The next apply converges, the one after changes nothing. */
async function expectConverges() {
  const next = await p.applyJson([], { env: { TF_BIG: "1" } });
  expect(next.run.code, next.run.stderr).toBe(0);
  const again = await p.applyJson([], { env: { TF_BIG: "1" } });
  expect(changedCount(again.report)).toBe(0);
}

describe("a connection that dies after login", () => {
  it("a frozen sshd: keepalives time out, the host is unreachable with its command named", async () => {
    const audits = (await auditLines()).length;
    const run = startApply({ TF_CMD: "touch /srv/tf/started && sleep 10" });
    await waitFor("t1's command started", () => exists("t1", "/srv/tf/started"));
    await freezeSshd(t("t1").container, true);
    const r = await run.done;
    await freezeSshd(t("t1").container, false);
    await expectSurvived(r, "unreachable", audits);
    const cmd = "(touch /srv/tf/started && sleep 10) && touch /srv/tf/done";
    expect(r.stderr).toContain(
      `t1 unreachable command:${cmd}: command ${cmd}: connection lost while running a command: no answer to keepalives`,
    );
    expect(r.stderr).toContain(`(command: ${cmd};`);
    await expectConverges();
  });

  it("a killed TCP connection: the host is unreachable, the others finish", async () => {
    const audits = (await auditLines()).length;
    const run = startApply({ TF_CMD: "touch /srv/tf/started && sleep 10" });
    await waitFor("t1's command started", () => exists("t1", "/srv/tf/started"));
    await killConnections(t("t1").address, t("t1").port);
    const r = await run.done;
    await expectSurvived(r, "unreachable", audits);
    expect(r.stderr).toContain(
      "t1 unreachable command:(touch /srv/tf/started && sleep 10) && touch /srv/tf/done: command (touch /srv/tf/started && sleep 10) && touch /srv/tf/done: connection lost while running a command: the connection was reset",
    );
    await expectConverges();
  });
});

describe("a bastion whose connection dies", () => {
  it("makes the host behind it unreachable, with its command named; no crash", async () => {
    // t2 by a name only the bastion t1 resolves: its connection is a channel forwarded over t1's.
    const kh = join(lab.stateDir, "known_hosts.bastion");
    await writeFile(kh, `${await readFile(lab.knownHostsFile, "utf8")}[t2]:2222 ${t("t2").hostKeyPub}\n`);
    const jp = await makeProject(lab, {
      groups: {},
      knownHosts: kh,
      hosts: { t2: { address: "t2", bastion: "t1" } },
      files: { "playbooks/site.ts": PLAYBOOK },
    });
    const child = spawn("node", [LAB_BIN, "-C", jp.root, "apply", "-y", "--limit", "t2"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, TF_HOST: "t2", TF_CMD: "touch /srv/tf/started && sleep 10" },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const done = new Promise<number | null>((resolve) => child.on("close", resolve));
    await waitFor("t2's command started", () => exists("t2", "/srv/tf/started"));
    await killConnections(t("t1").address, t("t1").port);
    const code = await done;
    expect(code, err).toBe(4);
    expect(err).not.toMatch(/\n\s+at /);
    expect(err).toContain(
      "t2 unreachable command:(touch /srv/tf/started && sleep 10) && touch /srv/tf/done: command (touch /srv/tf/started && sleep 10) && touch /srv/tf/done: connection lost while running a command",
    );
    expect(out).toMatch(/RECAP \(faults/);
    expect(out).toMatch(/t2 +: .*unreachable=1/);
  });
});

describe("a hung command", () => {
  it("is stopped at its timeout: the host is failed (not unreachable), naming the command and the limit", async () => {
    const audits = (await auditLines()).length;
    const t0 = Date.now();
    const r = await startApply({ TF_CMD: "sleep 30", TF_TIMEOUT: "2" }).done;
    expect(Date.now() - t0).toBeLessThan(25_000);
    await expectSurvived(r, "failed", audits);
    expect(r.stderr).toContain(
      "t1 failed      command:(sleep 30) && touch /srv/tf/done: command (sleep 30) && touch /srv/tf/done timed out after 2 s (the command was stopped) (command: (sleep 30) && touch /srv/tf/done;",
    );
    // The connection is still good: the next run on t1 (without the hang) converges.
    await expectConverges();
  });
});

describe("a client that dies during an upload", () => {
  const OLD = "old content\n";
  const prepare = async () => {
    await inHost(t("t1").container, `mkdir -p /srv/tf && printf '${OLD}' > /srv/tf/big`);
    // Stop the remote cat as soon as it starts (the upload stalls there), so the fault lands mid-upload every time.
    void inHost(t("t1").container, "for i in $(seq 1 3000); do pkill -STOP -x cat && break; sleep 0.01; done");
  };
  const staged = async () =>
    (await inHost(t("t1").container, "ls -A /srv/tf | grep -c '^.lab-tmp' || true")).stdout.trim();
  const catStopped = async () =>
    (await inHost(t("t1").container, "ps -o stat= -C cat | grep -q T && echo y")).stdout.trim() === "y";
  const expectOldIntact = async () => {
    // Let the remote script see end of input and finish.
    await inHost(t("t1").container, "pkill -CONT -x cat");
    await waitFor(
      "the remote write script ended",
      async () => (await inHost(t("t1").container, "pgrep -x cat >/dev/null || echo gone")).stdout.trim() === "gone",
    );
    expect((await inHost(t("t1").container, "cat /srv/tf/big")).stdout).toBe(OLD);
    await waitFor("no temp file", async () => (await staged()) === "0", 10_000);
  };

  it("its connection killed mid-upload of 10 MB: the old file stays, no temp file, the host is unreachable", async () => {
    await prepare();
    const audits = (await auditLines()).length;
    const run = startApply({ TF_BIG: "1" });
    await waitFor("the upload started", catStopped);
    expect(await staged()).toBe("1");
    await killConnections(t("t1").address, t("t1").port);
    const r = await run.done;
    await expectOldIntact();
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(
      /t1 unreachable file:\/srv\/tf\/big: write \/srv\/tf\/big: connection lost while running a command/,
    );
    expect((await auditLines()).length).toBe(audits + 1);
    expect(await exists("t2", "/srv/tf/after")).toBe(true);
    await expectConverges();
    expect((await inHost(t("t1").container, "sha256sum < /srv/tf/big | cut -c1-64")).stdout.trim()).toBe(bigSha);
  });

  it("lab kill -9ed mid-upload of 10 MB: the old file stays and no temp file", async () => {
    await prepare();
    const run = startApply({ TF_BIG: "1" });
    await waitFor("the upload started", catStopped);
    run.child.kill("SIGKILL");
    const r = await run.done;
    expect(r.signal).toBe("SIGKILL");
    await expectOldIntact();
    await expectConverges();
    expect((await inHost(t("t1").container, "sha256sum < /srv/tf/big | cut -c1-64")).stdout.trim()).toBe(bigSha);
  });
});
