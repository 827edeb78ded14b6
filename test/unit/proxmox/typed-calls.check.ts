// Calls that must not compile, each marked with the error TypeScript gives.
// `npm run typecheck` fails if one of them compiles (@ts-expect-error unused);
// typed.test.ts compiles this file without the markers and checks that each
// marked line fails with exactly its code and the others pass.
import type { PbsPaths } from "../../../src/proxmox/api-types/pbs.ts";
import type { PvePaths } from "../../../src/proxmox/api-types/pve.ts";
import type { TypedApi } from "../../../src/proxmox/typed.ts";

export async function calls(api: TypedApi<PvePaths>): Promise<unknown[]> {
  return [
    await api.get("/nodes/{node}/qemu/{vmid}/config", { node: "pve", vmid: 100 }),
    await api.post("/nodes/{node}/qemu/{vmid}/config", { node: "pve", vmid: 100, cores: 2, net0: "virtio,bridge=vmbr0" }),
    await api.put("/cluster/sdn"),
    // @ts-expect-error TS2345 no such path
    await api.get("/nodes/{node}/qemu/{vmid}/cfg", { node: "pve", vmid: 100 }),
    // @ts-expect-error TS2345 no such method on the path
    await api.delete("/version"),
    // @ts-expect-error TS2561 misspelled parameter ("did you mean current?")
    await api.get("/nodes/{node}/qemu/{vmid}/config", { node: "pve", vmid: 100, curent: true }),
    // @ts-expect-error TS2353 a parameter the method does not take
    await api.post("/nodes/{node}/qemu/{vmid}/clone", { node: "pve", vmid: 9000, newid: 101, linked: true }),
    // @ts-expect-error TS2353 an indexed parameter with a wrong name
    await api.post("/nodes/{node}/qemu/{vmid}/config", { node: "pve", vmid: 100, nett0: "virtio" }),
    // @ts-expect-error TS2322 an integer given as a string
    await api.post("/nodes/{node}/qemu/{vmid}/config", { node: "pve", vmid: "100" }),
    // @ts-expect-error TS2322 a value outside the enumeration
    await api.post("/nodes/{node}/storage/{storage}/download-url", { node: "pve", storage: "local", url: "https://x", filename: "a", content: "images" }),
    // @ts-expect-error TS2345 a path parameter left out
    await api.get("/nodes/{node}/qemu/{vmid}/config", { vmid: 100 }),
    // @ts-expect-error TS2554 a required parameter object left out
    await api.post("/nodes/{node}/qemu/{vmid}/clone"),
  ];
}

export async function replies(api: TypedApi<PvePaths>): Promise<unknown> {
  const vms = await api.get("/cluster/resources", { type: "vm" });
  // @ts-expect-error TS2551 replies are typed too: /cluster/resources has no 'vm_id' ("did you mean vmid?")
  return vms.map((v): unknown => v.vm_id);
}

/** PBS calls are typed from the PBS schema the same way (typedApi<PbsPaths> over a client with product "pbs"). */
export async function pbs(api: TypedApi<PbsPaths>): Promise<unknown[]> {
  return [
    await api.get("/admin/datastore/{store}/snapshots", { store: "backup", "backup-type": "vm" }),
    // @ts-expect-error TS2322 a backup type PBS does not know
    await api.get("/admin/datastore/{store}/snapshots", { store: "backup", "backup-type": "qemu" }),
    // @ts-expect-error TS2345 a PVE path is not a PBS path
    await api.get("/cluster/resources"),
  ];
}
