// Recorded calls checked against the schema: what the recorder hook is for.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ProxmoxClient, type RecordedCall } from "../../../src/proxmox/client.ts";
import { checkCalls } from "../../../src/proxmox/conformance.ts";
import { startSimulator } from "../../../src/sim/index.ts";

const call = (method: string, path: string, keys: string[]): RecordedCall => ({ method, path, keys, status: 200 });

describe("checkCalls", () => {
  it("accepts calls PVE knows, with indexed parameters", () => {
    expect(checkCalls([
      call("POST", "/nodes/pve/qemu", ["vmid", "name", "net0", "scsi0", "ipconfig0", "ide2"]),
      call("GET", `/nodes/pve/tasks/${encodeURIComponent("UPID:pve:00000001:00000002:00000003:qmstart:100:root@pam:")}/status`, []),
    ])).toEqual([]);
  });

  it("names unknown paths, unknown parameters and missing required ones", () => {
    const problems = checkCalls([
      call("GET", "/nodes/pve/qemu/100/cfg", []),
      call("POST", "/nodes/pve/qemu/100/clone", ["name", "linked"]),
      call("PATCH", "/version", []),
    ]).map((p) => p.problem);
    expect(problems).toEqual([
      "GET /nodes/pve/qemu/100/cfg is not in the API schema",
      "parameter 'linked' is not defined for POST /nodes/{node}/qemu/{vmid}/clone",
      "required parameter 'newid' missing in POST /nodes/{node}/qemu/{vmid}/clone",
      "PATCH /version is not in the API schema",
    ]);
  });

  it("finds nothing wrong in what the client sends for a clone-and-start", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lab-conf-"));
    const sim = await startSimulator({ stateDir: dir, taskDelayMs: 5, pbsPort: false });
    const calls: RecordedCall[] = [];
    const c = await ProxmoxClient.connect({ url: sim.url, auth: { tokenId: sim.tokenId, tokenSecret: sim.tokenSecret }, tls: { caFile: sim.caFile }, recorder: (x) => calls.push(x), tasks: { pollMs: 5 } });
    try {
      await c.run("POST", "/nodes/pve/qemu", { vmid: 9000, name: "tmpl", scsi0: "local-lvm:1", net0: "virtio,bridge=vmbr0", agent: "enabled=1" });
      await c.run("POST", "/nodes/pve/qemu/9000/template");
      await c.run("POST", "/nodes/pve/qemu/9000/clone", { newid: 101, name: "web", full: false });
      await c.put("/nodes/pve/qemu/101/config", { cores: 2, ipconfig0: "ip=dhcp" });
      await c.run("POST", "/nodes/pve/qemu/101/status/start");
      expect(calls.length).toBeGreaterThan(8);
      expect(checkCalls(calls)).toEqual([]);
    } finally {
      c.close();
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
