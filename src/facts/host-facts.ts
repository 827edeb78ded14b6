// The named facts `lab facts HOST [FACT...]` shows: what a role decides on (init
// system, Compose, cores) and what one looks up while debugging. Each is a command
// plus a parser, fetched together in one round trip like every other fact.
import type { Fact } from "../engine/types.ts";
import { composeFact } from "../resources/compose/flavour.ts";
import { coresFact } from "../resources/pgbackrest/conf.ts";
import { systemdFact } from "../resources/systemd-unit.ts";

const text = (key: string, command: string): Fact<string> => ({ key: `host:${key}`, command, parse: (o) => o.trim() });

/** /etc/os-release as key -> value (ID, VERSION_ID, PRETTY_NAME, ...). */
export function parseOsRelease(out: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const line of out.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) r[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, "$2");
  }
  return r;
}

export const hostFacts: Readonly<Record<string, Fact<unknown>>> = {
  hostname: text("hostname", "hostname"),
  os: {
    key: "host:os",
    command: "cat /etc/os-release",
    parse: (o) => {
      const r = parseOsRelease(o);
      return { id: r.ID ?? "", version_id: r.VERSION_ID ?? "", pretty_name: r.PRETTY_NAME ?? "" };
    },
  },
  kernel: text("kernel", "uname -r"),
  arch: text("arch", "uname -m"),
  cpus: coresFact,
  memory_mb: {
    key: "host:memory",
    command: "cat /proc/meminfo",
    parse: (o) => Math.round(Number(/^MemTotal:\s+(\d+)/m.exec(o)?.[1] ?? 0) / 1024),
  },
  init: { ...systemdFact, parse: (o, c) => (systemdFact.parse(o, c) ? "systemd" : "other") },
  compose: composeFact,
  addresses: {
    key: "host:addresses",
    command: "ip -o addr show 2>/dev/null || hostname -I",
    parse: (o) => [...o.matchAll(/\binet6? ([0-9a-f.:]+)\//g)].map((m) => m[1]!),
  },
  uptime_s: {
    key: "host:uptime",
    command: "cat /proc/uptime",
    parse: (o) => Math.floor(Number(o.split(/\s+/)[0]) || 0),
  },
};
