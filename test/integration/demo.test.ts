// The README's first command, for real: `scripts/demo.sh` builds the example lab
// (hosts on 127.0.20.x, the simulator on 127.0.0.1:8006/8007), applies it twice,
// runs the nightly `lab backup` and a restore drill; run twice in a row it still
// works; `scripts/demo.sh stop` leaves nothing running. (It replaces a demo lab
// you may have running on this machine.)
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { REPO } from "./project.ts";

const exec = promisify(execFile);

function demo(...args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", [join(REPO, "scripts/demo.sh"), ...args], {
      cwd: REPO,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 1_200_000);
    child.on("close", (code) => (clearTimeout(timer), resolve({ code, out })));
  });
}

const containers = async (label: string) =>
  (await exec("docker", ["ps", "-aq", "--filter", `label=${label}`])).stdout.trim();

afterAll(async () => {
  await demo("stop");
}, 120_000);

describe("npm run demo", { timeout: 1_500_000 }, () => {
  it("builds the lab, changes nothing the second time, backs up green and passes its drill", async () => {
    await demo("stop");
    const r = await demo();
    expect(r.code, r.out.slice(-4000)).toBe(0);
    expect(r.out).toMatch(/second run: 0 changed on 9 hosts \(exit 0\)/);
    // The nightly job took the backups and the check is green: the database's two repositories and the VMs.
    expect(r.out).toMatch(/db1-main +offsite \(repo2 on backup1\) +\d{8}-\d{6}F .* ok/);
    expect(r.out).toMatch(/trusted-vms +trusted1 \(\d+\) .* ok/);
    expect(r.out).toContain("every target meets its policy (2 checked)");
    // The drill's table: the marker restore and the offsite latest-point restore, both ok.
    expect(r.out).toMatch(/db1-main +local marker .* ok\n/);
    expect(r.out).toMatch(/db1-main +offsite latest +\d+(\.\d+)?s \/ 1m .* ok\n/);
    // And the VM drill: trusted1's newest backup restored to a scratch VM on the Lab VLAN, its probes passing.
    expect(r.out).toMatch(/trusted-vms +trusted1 newest -> \d+ .* 2\/2 ok +ok\n/);
    expect(r.out).toContain("every drill passed and met its policy (2 target(s))");
    expect(r.out).toMatch(/demo: done in \d+ min \d+ s/);
  });

  it("monitors it: Prometheus scrapes every host's node-exporter and serves the backup and drill metrics lab wrote", async () => {
    const prom = async <T>(path: string): Promise<T> =>
      (
        (await (await fetch(`http://127.0.20.3:9090${path}`, { signal: AbortSignal.timeout(10_000) })).json()) as {
          data: T;
        }
      ).data;
    type Sample = { metric: Record<string, string>; value: [number, string] };
    // One scrape interval (15 s) after the drill at most; bounded wait.
    let drill: Sample[] = [];
    for (let i = 0; i < 30 && drill.length === 0; i++) {
      drill = (await prom<{ result: Sample[] }>("/api/v1/query?query=lab_drill_success")).result;
      if (drill.length === 0) await new Promise((res) => setTimeout(res, 2000));
    }
    expect(drill.map((s) => `${s.metric.target}=${s.value[1]}`)).toContain("db1-main=1");
    const ok = (await prom<{ result: Sample[] }>("/api/v1/query?query=lab_backup_ok")).result;
    expect(ok.map((s) => `${s.metric.target}=${s.value[1]}`).sort()).toEqual(["db1-main=1", "trusted-vms=1"]);
    // Every host's exporter, and every VM guest's at the address its guest agent reports (targets/node.json).
    const node = () =>
      prom<{ activeTargets: { labels: { job: string; instance: string }; health: string }[] }>("/api/v1/targets").then(
        (t) =>
          t.activeTargets
            .filter((x) => x.labels.job === "node")
            .map((x) => `${x.labels.instance} ${x.health}`)
            .sort(),
      );
    let nodeTargets = await node();
    // A target's health is "unknown" until its first scrape (15 s): bounded wait.
    for (let i = 0; i < 20 && nodeTargets.some((t) => !t.endsWith(" up")); i++) {
      await new Promise((res) => setTimeout(res, 2000));
      nodeTargets = await node();
    }
    expect(nodeTargets.filter((t) => t.startsWith("127.0.20."))).toEqual([
      "127.0.20.2:9100 up",
      "127.0.20.3:9100 up",
      "127.0.20.4:9100 up",
      "127.0.20.5:9100 up",
    ]);
    const vmTargets = nodeTargets.filter((t) => !t.startsWith("127.0.20."));
    expect(vmTargets).toHaveLength(4);
    for (const t of vmTargets) expect(t).toMatch(/^127\.77\.\d+\.\d+:9100 up$/);
    const am = await prom<{ activeAlertmanagers: { url: string }[] }>("/api/v1/alertmanagers");
    expect(am.activeAlertmanagers.map((a) => a.url)).toEqual(["http://127.0.20.3:9093/api/v2/alerts"]);
  });

  it("serves the lab's names: A and PTR records of hosts and VMs (the VM's address from its guest agent)", async () => {
    const dig = async (...q: string[]) =>
      (await exec("dig", ["+short", "+time=2", "+tries=2", "@127.0.20.5", ...q])).stdout.trim();
    expect(await dig("db1.home.arpa")).toBe("127.0.20.4");
    expect(await dig("-x", "127.0.20.4")).toBe("db1.home.arpa.");
    expect(await dig("trusted1.home.arpa")).toMatch(/^127\.77\.\d+\.\d+$/);
  });

  it("runs again in a row: the lab is rebuilt and converges the same way", async () => {
    const r = await demo();
    expect(r.code, r.out.slice(-4000)).toBe(0);
    expect(r.out).toMatch(/second run: 0 changed on 9 hosts \(exit 0\)/);
    expect(r.out).toContain("every target meets its policy (2 checked)");
    expect(r.out).toContain("every drill passed and met its policy");
  });

  it("stop removes every host, VM guest, stack container and the simulator", async () => {
    const r = await demo("stop");
    expect(r.code, r.out).toBe(0);
    expect(await containers("lab.testhost.prefix=lab-demo")).toBe("");
    expect(await containers("lab.sim.guest=lab-sim")).toBe("");
    for (const p of ["proxy", "wiki", "automation", "monitoring"])
      expect(await containers(`com.docker.compose.project=demo-${p}`)).toBe("");
    expect(existsSync(join(REPO, ".lab/sim.pid"))).toBe(false);
    expect(existsSync("/opt/lab/metrics")).toBe(false);
  });
});
