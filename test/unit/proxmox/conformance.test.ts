// Recorded calls checked against the schema: what the recorder hook is for.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ProxmoxClient, type RecordedCall } from "../../../src/proxmox/client.ts";
import { checkCalls } from "../../../src/proxmox/conformance.ts";
import { startSimulator } from "../../../src/sim/index.ts";

const call = (method: string, path: string, keys: string[]): RecordedCall => ({ method, path, keys, status: 200 });
/** A call as the recorder writes it: names, values and the reply. */
const full = (
  method: string,
  path: string,
  values: Record<string, string>,
  reply?: unknown,
  product: "pve" | "pbs" = "pve",
): RecordedCall => ({
  method,
  path,
  keys: Object.keys(values).sort(),
  status: 200,
  product,
  values,
  ...(reply !== undefined ? { reply } : {}),
});

describe("checkCalls", () => {
  it("accepts calls PVE knows, with indexed parameters", () => {
    expect(
      checkCalls([
        call("POST", "/nodes/pve/qemu", ["vmid", "name", "net0", "scsi0", "ipconfig0", "ide2"]),
        call(
          "GET",
          `/nodes/pve/tasks/${encodeURIComponent("UPID:pve:00000001:00000002:00000003:qmstart:100:root@pam:")}/status`,
          [],
        ),
      ]),
    ).toEqual([]);
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

  it("checks every value against type, format and pattern, PVE and PBS alike", () => {
    const problems = checkCalls([
      full("POST", "/nodes/pve/qemu", { vmid: "100", boot: "order=scsi0;net0", net0: "virtio,bridge=vmbr0,tag=10" }),
      full("POST", "/nodes/pve/qemu", { vmid: "abc", boot: "order=scsi0;floppy0" }),
      full("POST", "/cluster/firewall/groups/g1", {
        type: "in",
        action: "DROP",
        source: "+vlan-iot",
        dest: "10.0.0.1-10.0.0.9,10.0.1.0/24",
      }),
      full("POST", "/cluster/firewall/groups/g1", { type: "in", action: "DROP", source: "10.0.0.1,fe80::1" }),
      full("POST", "/cluster/firewall/ipset/s1", { cidr: "dc/some-alias" }),
      full("POST", "/cluster/firewall/ipset/s1", { cidr: "10.0.0.0/33" }),
      full("POST", "/storage", {
        storage: "pbs1",
        type: "pbs",
        server: "pbs.example.lan",
        datastore: "d",
        username: "a@pbs!t",
        password: "REDACTED",
      }),
      full("POST", "/storage", { storage: "pbs2", type: "pbs", server: "bad_host!", datastore: "d" }),
      full(
        "PUT",
        "/access/acl",
        { path: "/datastore/d", role: "DatastoreBackup", "auth-id": "lab@pbs!tok" },
        null,
        "pbs",
      ),
      full(
        "PUT",
        "/access/acl",
        { path: "/datastore/d", role: "DatastoreBackup", "auth-id": "la\u0007b@pbs" },
        null,
        "pbs",
      ),
    ]).map((p) => p.problem);
    expect(problems).toEqual([
      "POST /nodes/{node}/qemu: boot: invalid format - format error; boot.order: invalid format - invalid boot device 'floppy0'",
      "POST /nodes/{node}/qemu: vmid: type check ('integer') failed - got 'abc'",
      "POST /cluster/firewall/groups/{group}: source: invalid format - you can't mix ipv4 and ipv6 addresses in the same list",
      "POST /cluster/firewall/ipset/{name}: cidr: invalid format - value does not look like a valid IP address or CIDR network",
      "POST /storage: server: invalid format - value does not look like a valid server name or IP address",
      "PUT /access/acl: auth-id: value does not match the regex pattern",
    ]);
  });

  it("checks every reply strictly: an integer is not a numeric string, no undeclared keys; known drift of the real server passes", () => {
    const problems = checkCalls([
      full(
        "GET",
        "/nodes/pve/qemu/100/status/current",
        {},
        { vmid: 100, status: "running", qmpstatus: "running", ha: { managed: 0 } },
      ),
      full(
        "GET",
        "/nodes/pve/qemu/100/status/current",
        {},
        { vmid: "100", status: "running", ha: { managed: 0 }, colour: "red" },
      ),
      full("GET", "/nodes", {}, [{ node: "pve", status: "online", id: "node/pve", type: "node", disk: 1, maxdisk: 2 }]),
      full("GET", "/version", {}, { version: "9.1.3", release: "9.1", repoid: "e5010dce", console: "xtermjs" }),
      full(
        "GET",
        "/admin/datastore",
        {},
        [{ store: "lab", comment: 5, "backend-type": "filesystem", "mount-status": "nonremovable" }],
        "pbs",
      ),
    ]).map((p) => p.problem);
    expect(problems).toEqual([
      "reply to GET /nodes/{node}/qemu/{vmid}/status/current: data.vmid: type check ('integer') failed - got \"100\" (JSON string)",
      "reply to GET /nodes/{node}/qemu/{vmid}/status/current: data.colour: property is not defined in schema and the schema does not allow additional properties",
      "reply to GET /admin/datastore: data[0].comment: type check ('string') failed - got 5 (JSON number)",
    ]);
  });

  it("finds nothing wrong in what the client sends for a clone-and-start", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lab-conf-"));
    const sim = await startSimulator({ stateDir: dir, taskDelayMs: 5, pbsPort: false });
    const calls: RecordedCall[] = [];
    const c = await ProxmoxClient.connect({
      url: sim.url,
      auth: { tokenId: sim.tokenId, tokenSecret: sim.tokenSecret },
      tls: { caFile: sim.caFile },
      recorder: (x) => calls.push(x),
      tasks: { pollMs: 5 },
    });
    try {
      await c.run("POST", "/nodes/pve/qemu", {
        vmid: 9000,
        name: "tmpl",
        scsi0: "local-lvm:1",
        net0: "virtio,bridge=vmbr0",
        agent: "enabled=1",
      });
      await c.run("POST", "/nodes/pve/qemu/9000/template");
      await c.run("POST", "/nodes/pve/qemu/9000/clone", { newid: 101, name: "web", full: false });
      await c.put("/nodes/pve/qemu/101/config", { cores: 2, ipconfig0: "ip=dhcp" });
      await c.run("POST", "/nodes/pve/qemu/101/status/start");
      expect(calls.length).toBeGreaterThan(8);
      // Values and replies were recorded, so they were checked too.
      expect(calls.filter((x) => x.values && Object.keys(x.values).length).length).toBeGreaterThanOrEqual(3);
      expect(calls.filter((x) => "reply" in x).length).toBeGreaterThan(8);
      expect(checkCalls(calls)).toEqual([]);
    } finally {
      c.close();
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
