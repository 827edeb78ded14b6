// How many packages an upgrade would change on a Debian host, read from apt's own
// simulation (`apt-get -s dist-upgrade`: no lock taken, nothing installed, the
// package lists not refreshed): the count is as of the host's last `apt-get update`.
import type { Fact } from "../engine/types.ts";

export interface PendingUpgrades {
  /** apt-get is missing or failed: not a Debian-like host, or a broken apt. */
  available: boolean;
  /** Installed packages a dist-upgrade would upgrade. */
  upgrades: string[];
  /** Of those, the ones whose candidate comes from a -security suite. */
  security: string[];
}

export const pendingUpgradesFact: Fact<PendingUpgrades> = {
  key: "apt:pending-upgrades",
  command:
    "LC_ALL=C apt-get -s -o Debug::NoLocking=1 -o APT::Get::Show-User-Simulation-Note=false dist-upgrade 2>/dev/null",
  dependsOn: ["/var/lib/apt/lists/", "/var/lib/dpkg/status"],
  parse: (out, code) => {
    if (code !== 0) return { available: false, upgrades: [], security: [] };
    // "Inst libc6 [2.36-9] (2.36-9+deb12u4 Debian-Security:12/stable-security [amd64])": [old version] marks an upgrade, not a new install.
    const lines = out.split("\n").filter((l) => /^Inst \S+ \[[^\]]+\] \(/.test(l));
    const name = (l: string) => l.split(" ")[1]!;
    return {
      available: true,
      upgrades: lines.map(name).sort(),
      security: lines
        .filter((l) => /\(\S+ [^)]*-security\b/.test(l))
        .map(name)
        .sort(),
    };
  },
};

/** "3 upgrades pending (1 security)". */
export function describePending(p: PendingUpgrades): string {
  if (!p.available) return "pending upgrades unknown: apt-get -s failed on this host";
  const n = p.upgrades.length;
  return `${n} upgrade${n === 1 ? "" : "s"} pending${p.security.length ? ` (${p.security.length} security)` : ""}${n ? `: ${p.upgrades.slice(0, 10).join(" ")}${n > 10 ? " ..." : ""}` : ""}`;
}
