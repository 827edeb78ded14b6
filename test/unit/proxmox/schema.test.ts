import { existsSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { pveSchema, violationsToErrors } from "../../../src/proxmox/schema.ts";

const schema = pveSchema();
const errorsOf = (method: string, path: string, params: Record<string, unknown>): Record<string, string> =>
  violationsToErrors(schema.checkRequest(method, path, params).violations);
interface Recorded {
  request: { query: Record<string, string> };
  response: { body: { errors: Record<string, string>; data: unknown } };
}
const fixture = (name: string): Recorded =>
  JSON.parse(readFileSync(new URL(`../../fixtures/pve/${name}`, import.meta.url), "utf8")) as Recorded;

describe("PVE schema: routing", () => {
  it("matches concrete paths to templates, literal segments first", () => {
    expect(schema.match("/nodes/pve/qemu/100/config")).toEqual({
      template: "/nodes/{node}/qemu/{vmid}/config",
      pathParams: { node: "pve", vmid: "100" },
    });
    expect(schema.match("/cluster/sdn/vnets")?.template).toBe("/cluster/sdn/vnets");
  });

  it("lets a trailing volume ID keep its unescaped slashes", () => {
    const m = schema.match("/nodes/pve/storage/local/content/local:backup/vzdump-qemu-100.vma.lzo");
    expect(m?.pathParams.volume).toBe("local:backup/vzdump-qemu-100.vma.lzo");
  });

  it("answers 501 for unknown paths and methods", () => {
    expect(schema.checkRequest("GET", "/nodes/pve/foo", {}).status).toBe(501);
    expect(schema.checkRequest("PATCH", "/version", {}).status).toBe(501);
  });
});

describe("PVE schema: request validation", () => {
  it("accepts a VM create with property strings, cloud-init and an import", () => {
    const check = schema.checkRequest("POST", "/nodes/pve/qemu", {
      vmid: "120",
      name: "web-1",
      memory: "2048",
      cores: 2,
      agent: "enabled=1",
      scsihw: "virtio-scsi-pci",
      scsi0: "local-lvm:0,import-from=local:import/debian.qcow2",
      ide2: "local-lvm:cloudinit",
      net0: "virtio,bridge=vmbr0,tag=20,firewall=1",
      ipconfig0: "ip=10.0.20.5/24,gw=10.0.20.1",
      sshkeys: "ssh-ed25519%20AAAA",
      boot: "order=scsi0",
      tags: "lab;web",
      onboot: true,
    });
    expect(check.violations).toEqual([]);
    expect(check.status).toBe(200);
  });

  it("reproduces PVE's text for an invalid VMID (recorded)", () => {
    const rec = fixture("pve62-08-cluster-nextid-400-invalid-vmid.json");
    expect(errorsOf("GET", "/cluster/nextid", rec.request.query)).toEqual(rec.response.body.errors);
  });

  it("rejects unknown parameters like PVE does", () => {
    expect(errorsOf("POST", "/nodes/pve/qemu", { vmid: "120", colour: "red" })).toEqual({
      colour: "property is not defined in schema and the schema does not allow additional properties",
    });
  });

  it("checks types of form strings: integer, boolean given as 'true'", () => {
    expect(errorsOf("POST", "/nodes/pve/qemu", { vmid: "120", cores: "two", onboot: "true" })).toEqual({
      cores: "type check ('integer') failed - got 'two'",
      onboot: "type check ('boolean') failed - got 'true'",
    });
  });

  it("reports missing required parameters, enums, minimum and patterns", () => {
    expect(errorsOf("POST", "/nodes/pve/qemu/100/clone", {})).toEqual({
      newid: "property is missing and it is not optional",
    });
    expect(errorsOf("POST", "/nodes/pve/qemu/100/clone", { newid: 50 })).toEqual({
      newid: "invalid format - value does not look like a valid VM ID\n",
    });
    expect(errorsOf("POST", "/nodes/pve/qemu/100/clone", { newid: 101, format: "vdi" })).toEqual({
      format: "value 'vdi' does not have a value in the enumeration 'raw, qcow2, vmdk'",
    });
    expect(errorsOf("PUT", "/nodes/pve/qemu/100/resize", { disk: "scsi0", size: "10 gigs" })).toEqual({
      size: "value does not match the regex pattern",
    });
  });

  it("checks keys and values inside property strings", () => {
    const errors = errorsOf("POST", "/nodes/pve/qemu/100/config", { net0: "virtio,bridge=vmbr0,vlan=5" });
    expect(errors.net0).toBe("invalid format - invalid key in comma-separated list property: vlan\n");
    const bad = errorsOf("POST", "/nodes/pve/qemu/100/config", { net0: "virtio,bridge=vmbr0,tag=5000" });
    expect(bad.net0).toMatch(/^invalid format - format error\nnet0.tag: value must have a maximum value of 4094/);
  });

  it("expands indexed properties only within PVE's limits", () => {
    expect(errorsOf("POST", "/nodes/pve/qemu/100/config", { net31: "virtio,bridge=vmbr0" })).toEqual({});
    expect(Object.keys(errorsOf("POST", "/nodes/pve/qemu/100/config", { net32: "virtio,bridge=vmbr0" }))).toEqual([
      "net32",
    ]);
  });

  it("reports 'requires' pairs (download-url checksum needs an algorithm)", () => {
    const errors = errorsOf("POST", "/nodes/pve/storage/local/download-url", {
      url: "http://127.0.0.1/x.img",
      content: "import",
      filename: "x.img",
      checksum: "abc",
    });
    expect(errors["checksum-algorithm"]).toBe("missing property - 'checksum' requires this property");
  });

  it("flags a body value that contradicts the URI", () => {
    expect(Object.keys(errorsOf("POST", "/nodes/pve/qemu/100/config", { vmid: 101 }))).toEqual(["vmid"]);
  });
});

describe("PVE schema: reply validation", () => {
  it("flags PVE 6.2's string-typed booleans (recorded drift) but accepts numeric strings", () => {
    const rec = fixture("pve62-12-qemu-list.json");
    expect(schema.checkReply("GET", "/nodes/{node}/qemu", rec.response.body.data)).toEqual([
      { path: "data[0].template", message: "type check ('boolean') failed - got ''" },
    ]);
  });

  it("checks enums and required keys of task status replies", () => {
    const bad = schema.checkReply("GET", "/nodes/{node}/tasks/{upid}/status", { status: "done", upid: "x" });
    expect(bad.map((v) => v.path).sort()).toEqual([
      "data.id",
      "data.node",
      "data.pid",
      "data.pstart",
      "data.starttime",
      "data.status",
      "data.type",
      "data.user",
    ]);
  });
});

describe("bundled schema copy", () => {
  const shared = new URL("../../../../shared/pve-api/pve-apidata.json", import.meta.url);
  it.skipIf(!existsSync(shared))("is byte-identical to ../shared/pve-api/pve-apidata.json", () => {
    const bundled = gunzipSync(readFileSync(new URL("../../../src/proxmox/pve-apidata.json.gz", import.meta.url)));
    expect(bundled.equals(readFileSync(shared))).toBe(true);
  });
});
