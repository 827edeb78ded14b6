// The updates role's pure parts and the pending-upgrades fact's parser.
import { describe, expect, it } from "vitest";
import { DEBIAN_SECURITY_ORIGINS, unattendedConf, windowJob } from "../../../roles/updates.ts";
import { describePending, pendingUpgradesFact } from "../../../src/facts/pending-upgrades.ts";

const SIM = `NOTE: This is only a simulation!
Reading package lists...
Inst libc6 [2.36-9+deb12u3] (2.36-9+deb12u4 Debian-Security:12/stable-security [amd64])
Inst openssl [3.0.11-1~deb12u1] (3.0.15-1~deb12u1 Debian:12.8/stable [amd64])
Inst linux-image-6.1.0-28-amd64 (6.1.119-1 Debian-Security:12/stable-security [amd64])
Conf libc6 (2.36-9+deb12u4 Debian-Security:12/stable-security [amd64])
`;

describe("pending upgrades", () => {
  it("counts upgrades of installed packages (not new installs), and which come from a -security suite", () => {
    const p = pendingUpgradesFact.parse(SIM, 0);
    expect(p).toEqual({ available: true, upgrades: ["libc6", "openssl"], security: ["libc6"] });
    expect(describePending(p)).toBe("2 upgrades pending (1 security): libc6 openssl");
    expect(describePending(pendingUpgradesFact.parse("", 0))).toBe("0 upgrades pending");
  });

  it("says so when apt-get cannot simulate", () => {
    expect(describePending(pendingUpgradesFact.parse("", 127))).toMatch(/unknown/);
  });
});

describe("updates role", () => {
  it("replaces Debian's origins and blacklist, and never lets apt's daily run upgrade outside the window", () => {
    const conf = unattendedConf({ window: { start: "03:00" } });
    expect(conf).toContain(
      `#clear Unattended-Upgrade::Origins-Pattern;\nUnattended-Upgrade::Origins-Pattern {\n${DEBIAN_SECURITY_ORIGINS.map((o) => `    "${o}";`).join("\n")}\n};`,
    );
    expect(conf).toContain('APT::Periodic::Unattended-Upgrade "0";');
    expect(conf).toContain('Unattended-Upgrade::Automatic-Reboot "false";');
    expect(conf).not.toContain("Automatic-Reboot-Time");
  });

  it("turns the window into a schedule and a run that stops when it closes", () => {
    expect(windowJob({ window: { start: "23:05", days: "0,6", hours: 3 } })).toEqual({
      schedule: "5 23 * * 0,6",
      command: "timeout --signal=TERM --kill-after=10m 180m sh -c 'apt-get update -qq && unattended-upgrade'",
    });
  });
});
