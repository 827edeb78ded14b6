// The node-targets role's file_sd document: what Prometheus reads from targets/*.json.
import { describe, expect, it } from "vitest";
import { targetsFile } from "../../../roles/node-targets.ts";
import { exporterDefaults } from "../../../roles/node-exporter.ts";

describe("node-targets role", () => {
  it("lists one target group per host, sorted by name, at the exporter's port, labelled with the host", () => {
    const doc = targetsFile(
      [
        { name: "web1", address: "127.0.20.2" },
        { name: "vm-iot", address: "127.77.0.202" },
      ],
      9100,
    );
    expect(JSON.parse(doc)).toEqual([
      { targets: ["127.77.0.202:9100"], labels: { lab_host: "vm-iot" } },
      { targets: ["127.0.20.2:9100"], labels: { lab_host: "web1" } },
    ]);
    expect(doc.endsWith("\n")).toBe(true);
  });

  it("is an empty list (valid for Prometheus) when no host is known yet", () => {
    expect(JSON.parse(targetsFile([], 9100))).toEqual([]);
  });
});

describe("node-exporter role", () => {
  it("writes the listen address and textfile directory as one quoted ARGS value", () => {
    expect(exporterDefaults("127.77.0.202:9100", "/var/lib/prometheus/node-exporter")).toBe(
      "# Managed by lab (role node-exporter).\nARGS='--web.listen-address=127.77.0.202:9100 --collector.textfile.directory=/var/lib/prometheus/node-exporter'\n",
    );
  });
});

describe("resolveSources (roles dns and node-targets)", () => {
  it("asks the guest agent for VMs only and lists a VM that does not exist yet apart; other errors propagate", async () => {
    const { resolveSources } = await import("../../../roles/vm-addresses.ts");
    const { NotCreatedYetError } = await import("../../../src/errors.ts");
    const lookup = (vm: string): Promise<string> => {
      if (vm === "new") return Promise.reject(new NotCreatedYetError("vm-new", "VM new does not exist yet"));
      if (vm === "bad") return Promise.reject(new Error("agent down"));
      return Promise.resolve("127.77.0.9");
    };
    const r = await resolveSources(
      [
        { name: "web1", address: "127.0.20.2" },
        { name: "vm-a", vm: "a" },
        { name: "vm-new", vm: "new" },
      ],
      lookup,
    );
    expect(r.resolved.sort((x, y) => x.name.localeCompare(y.name))).toEqual([
      { name: "vm-a", address: "127.77.0.9" },
      { name: "web1", address: "127.0.20.2" },
    ]);
    expect(r.notYet).toEqual(["vm-new"]);
    await expect(resolveSources([{ name: "vm-bad", vm: "bad" }], lookup)).rejects.toThrow("agent down");
  });
});
