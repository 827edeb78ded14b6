// The dns role's pure parts: which names the inventory implies, the reverse zones
// of the VLAN subnets, the dnsmasq config and the records file.
import { describe, expect, it } from "vitest";
import type { LabModel } from "../../../src/inventory/model.ts";
import { dnsRecords, dnsSources, dnsmasqConf, reverseZone, type DnsVars } from "../../../roles/dns.ts";
import { hostInfo } from "../helpers/host-ctx.ts";

const host = (name: string, address: string, vm?: string) => {
  const h = hostInfo(name);
  return { ...h, connection: { ...h.connection, type: "ssh" as const, address, ...(vm ? { vm } : {}) } };
};
const lab = {
  proxmox: {},
  pbs: {},
  templates: {},
  vlans: {
    Trusted: { tag: 10, subnet: "10.0.10.0/24" },
    Lab: { tag: 40, subnet: "10.0.40.0/25" },
    Big: { tag: 50, subnet: "10.8.0.0/16" },
  },
  vms: { wiki: { template: "t", vlan: "Lab" }, git: { template: "t", vlan: "Trusted" } },
} as unknown as LabModel;
const v: DnsVars = { domain: "home.arpa", listenAddress: "10.0.10.2" };

describe("dns role", () => {
  it("names every host with an IPv4 address, every VM guest host and every VM; skips hostnames and excluded names", () => {
    const hosts = [
      host("web1", "10.0.10.11"),
      host("ext", "example.org"),
      host("wiki-guest", "", "wiki"),
      host("old", "10.0.10.99"),
    ];
    expect(dnsSources({ ...v, exclude: ["old"], records: { gateway: "10.0.10.1" } }, hosts, lab)).toEqual([
      { name: "gateway", address: "10.0.10.1" },
      { name: "git", vm: "git" },
      { name: "web1", address: "10.0.10.11" },
      { name: "wiki", vm: "wiki" },
      { name: "wiki-guest", vm: "wiki" },
    ]);
  });

  it("refuses a name that is not a DNS label, naming the var that leaves it out", () => {
    expect(() => dnsSources(v, [host("db_1", "10.0.10.5")], lab)).toThrow(/"db_1" is not a DNS name/);
  });

  it("makes one reverse zone per VLAN subnet, rounded out to whole octets", () => {
    expect(reverseZone("10.0.10.0/24")).toBe("10.0.10.in-addr.arpa");
    expect(reverseZone("10.0.40.0/25")).toBe("40.0.10.in-addr.arpa");
    expect(reverseZone("10.8.0.0/16")).toBe("8.10.in-addr.arpa");
    const conf = dnsmasqConf({ ...v, upstream: ["10.0.10.1"] }, lab);
    expect(conf.split("\n").filter((l) => l.startsWith("local="))).toEqual([
      "local=/home.arpa/",
      "local=/10.0.10.in-addr.arpa/",
      "local=/40.0.10.in-addr.arpa/",
      "local=/8.10.in-addr.arpa/",
    ]);
    expect(conf).toContain("listen-address=10.0.10.2\nbind-interfaces\n");
    expect(conf).toContain("no-resolv\nserver=10.0.10.1\n");
  });

  it("writes one line per address, the alphabetically first name first (the PTR answer)", () => {
    expect(
      dnsRecords(v, [
        { name: "wiki-guest", address: "10.0.40.7" },
        { name: "web1", address: "10.0.10.11" },
        { name: "wiki", address: "10.0.40.7" },
      ])
        .split("\n")
        .slice(1),
    ).toEqual([
      "10.0.10.11\tweb1.home.arpa\tweb1",
      "10.0.40.7\twiki.home.arpa\twiki\twiki-guest.home.arpa\twiki-guest",
      "",
    ]);
    expect(dnsRecords(v, [], ["lab1"])).toContain(
      "\n# lab1: no record yet, its VM does not exist (the next apply adds it)\n",
    );
  });
});
