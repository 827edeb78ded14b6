// A VM template built from a cloud image: download (checksum verified by
// Proxmox), create a VM importing the disk with a cloud-init drive, serial
// console and guest agent, convert to template. The image checksum and the spec
// make its version: a new version is a new template; VMs record theirs.
import { valueChange } from "../../resources/attrs-diff.ts";
import { createHash } from "node:crypto";
import type { Change, HostCtx, Resource } from "../../engine/types.ts";
import { ExitCode, LabError, errorMessage } from "../../errors.ts";
import { Type, type Static } from "@sinclair/typebox";
import { OS_TYPES } from "../../inventory/model.ts";
import { closed, oneOf } from "../../resources/options.ts";
import type { ParamsFor, PveApi } from "./api.ts";
import { checkWant } from "./check.ts";
import { labTemplates, markerLine, type VmidAllocator } from "./find.ts";

/** PVE's guest OS types (ostype). */
export type OsType = NonNullable<ParamsFor<"POST", "/nodes/{node}/qemu">["ostype"]>;

export const TemplateWant = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    node: Type.String({ minLength: 1 }),
    vmid: Type.Integer({ minimum: 100 }),
    imageUrl: Type.String({ pattern: "^https?://" }),
    /** "sha256:HEX". */
    checksum: Type.String({ pattern: "^sha(256|512):[0-9a-f]+$" }),
    storage: Type.String(),
    imageStorage: Type.String(),
    bridge: Type.String(),
    cores: Type.Integer({ minimum: 1 }),
    memory: Type.Integer({ minimum: 64 }),
    osType: oneOf(OS_TYPES satisfies readonly OsType[]),
  },
  closed,
);
export type TemplateWant = Static<typeof TemplateWant>;

export interface TemplateHave {
  /** The template of the wanted version, if built. */
  current?: { vmid: number; name: string };
  /** Older versions (kept: linked clones depend on them). */
  older: number[];
  /** A VM of ours that is not (yet) a template: a build that failed half-way. */
  halfMade?: { vmid: number; name: string };
  /** The image is already in storage (no download needed). */
  imagePresent: boolean;
}

/** Version = image checksum + spec: anything that changes the built disk or hardware. */
export function templateVersion(w: TemplateWant): string {
  const spec = JSON.stringify([w.checksum, w.cores, w.memory, w.osType, w.bridge, w.storage]);
  return createHash("sha256").update(spec).digest("hex").slice(0, 8);
}

export const imageFile = (w: TemplateWant) => `${w.name}-${w.checksum.split(":")[1]!.slice(0, 12)}.qcow2`;

export function vmTemplate(
  pve: (ctx: HostCtx) => Promise<PveApi>,
  ids: (ctx: HostCtx) => Promise<VmidAllocator>,
  want: TemplateWant,
): Resource<TemplateWant, TemplateHave> {
  checkWant("vmTemplate", TemplateWant, want);
  const version = templateVersion(want);
  return {
    id: `pve:template/${want.name}`,
    want,
    async read(ctx) {
      const api = await pve(ctx);
      const ours = await labTemplates(api, want.node, want.name);
      const content = await api.get("/nodes/{node}/storage/{storage}/content", {
        node: want.node,
        storage: want.imageStorage,
        content: "import",
      });
      const cur = ours.find((o) => o.template && o.version === version);
      const half = ours.find((o) => !o.template);
      return {
        ...(cur ? { current: { vmid: cur.vmid, name: cur.name } } : {}),
        older: ours.filter((o) => o.template && o.version !== version).map((o) => o.vmid),
        ...(half ? { halfMade: { vmid: half.vmid, name: half.name } } : {}),
        imagePresent: content.some((c) => c.volid === `${want.imageStorage}:import/${imageFile(want)}`),
      };
    },
    diff(w, have): Change[] {
      if (have.halfMade) {
        throw new LabError(
          `template ${w.name}: VM ${have.halfMade.vmid} (${have.halfMade.name}) was left half-built by an earlier run and is not reused`,
          ExitCode.failed,
          {},
          `inspect it, then delete it (qm destroy ${have.halfMade.vmid} --purge) and apply again`,
        );
      }
      if (have.current) return [];
      const out: Change[] = [];
      if (!have.imagePresent)
        out.push(
          valueChange(
            "download",
            `download ${w.imageUrl} to ${w.imageStorage} (verify ${w.checksum.slice(0, 19)}…)`,
            null,
            {
              url: w.imageUrl,
              storage: w.imageStorage,
              checksum: w.checksum,
            },
          ),
        );
      out.push(
        valueChange(
          "create",
          `${have.older.length ? `new version ${version} of` : "build"} template ${w.name}: import disk, cloud-init drive, serial console, guest agent, ${w.cores} cores, ${w.memory} MiB`,
          have.older.length ? { older: have.older } : null,
          { name: w.name, version, cores: w.cores, memory: w.memory },
        ),
      );
      return out;
    },
    async apply(ctx, changes, have) {
      const api = await pve(ctx);
      const file = imageFile(want);
      if (changes.some((c) => c.key === "download")) {
        // The inventory schema allows sha256: and sha512: only.
        const [algo, sum] = want.checksum.split(":") as [
          ParamsFor<"POST", "/nodes/{node}/storage/{storage}/download-url">["checksum-algorithm"],
          string,
        ];
        await api.wait(
          await api.post("/nodes/{node}/storage/{storage}/download-url", {
            node: want.node,
            storage: want.imageStorage,
            url: want.imageUrl,
            content: "import",
            filename: file,
            checksum: sum,
            "checksum-algorithm": algo,
          }),
          `download ${file}`,
        );
      }
      const alloc = await ids(ctx);
      const vmid = have.older.length === 0 ? want.vmid : await alloc.next(api, want.vmid + 1);
      alloc.reserve(vmid);
      const name = `${want.name}-${version}`;
      await api.wait(
        await api.post("/nodes/{node}/qemu", {
          node: want.node,
          vmid,
          name,
          cores: want.cores,
          memory: String(want.memory),
          ostype: want.osType,
          scsihw: "virtio-scsi-single",
          scsi0: `${want.storage}:0,import-from=${want.imageStorage}:import/${file}`,
          ide2: `${want.storage}:cloudinit`,
          serial0: "socket",
          vga: "serial0",
          agent: "enabled=1",
          boot: "order=scsi0",
          net0: `virtio,bridge=${want.bridge}`,
          tags: "lab-template",
          description: markerLine({ "lab-template": want.name, version, image: file }),
        }),
        `create template VM ${vmid}`,
      );
      try {
        await api.wait(
          await api.post("/nodes/{node}/qemu/{vmid}/template", { node: want.node, vmid }),
          `convert VM ${vmid} to a template`,
        );
      } catch (e) {
        // Never leave a half-built template to be mistaken for a good one.
        const cleaned = await api
          .delete("/nodes/{node}/qemu/{vmid}", { node: want.node, vmid, purge: true })
          .then((u) => api.wait(u, `remove half-built VM ${vmid}`))
          .then(
            () => true,
            () => false,
          );
        throw new LabError(
          `template ${want.name}: ${errorMessage(e)}; ${cleaned ? `removed the half-built VM ${vmid}` : `VM ${vmid} is left half-built (marked as such; lab will not reuse it)`}`,
          ExitCode.failed,
        );
      }
    },
    ok: (have) =>
      `template ${have.current?.name ?? want.name} (VM ${have.current?.vmid ?? "?"}) is version ${version}${have.older.length ? `; older versions kept for linked clones: ${have.older.join(", ")}` : ""}`,
  };
}
