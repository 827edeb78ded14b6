// A VM cloned from a template: clone (linked or full), cloud-init, NICs on the
// VLAN-aware bridge with their VLAN tag and firewall, disk, tags, started, and
// the guest agent reporting an IP. Config changes are made in place; those that
// a running VM takes only at reboot are reported as pending.
import { defined, valueChange } from "../../resources/attrs-diff.ts";
import type { Change, HostCtx, Resource } from "../../engine/types.ts";
import { ExitCode, LabError, errorMessage } from "../../errors.ts";
import { parsePropString, parseSize } from "../propstring.ts";
import { isMissing, type ParamsFor, type PveApi } from "./api.ts";
import { groupName } from "./firewall.ts";
import { agentIpv4, isTemplate, labTemplates, listVms, marker, markerLine, type VmidAllocator } from "./find.ts";
import { Type, type Static } from "@sinclair/typebox";
import { closed, oneOf } from "../../resources/options.ts";
import { checkWant } from "./check.ts";
import { TemplateWant, templateVersion } from "./template.ts";

export const NicWant = Type.Object(
  {
    bridge: Type.String({ minLength: 1 }),
    tag: Type.Integer({ minimum: 1, maximum: 4094 }),
    vlan: Type.String({ minLength: 1 }),
  },
  closed,
);
export type NicWant = Static<typeof NicWant>;

export const VmWant = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    /** The node it is created on (clone `target` when the template is elsewhere). */
    node: Type.String({ minLength: 1 }),
    /** The inventory names the node: a VM found on another one is migrated (ADR 0017); else it stays where it is. */
    nodePinned: Type.Optional(Type.Boolean()),
    vmid: Type.Optional(Type.Integer({ minimum: 100 })),
    template: TemplateWant,
    clone: oneOf(["linked", "full"]),
    storage: Type.String(),
    cores: Type.Integer({ minimum: 1 }),
    memory: Type.Integer({ minimum: 16 }),
    diskGiB: Type.Optional(Type.Integer({ minimum: 1 })),
    nics: Type.Array(NicWant),
    /** "dhcp" or "CIDR" (gateway from the VLAN). */
    ip: Type.String(),
    gateway: Type.Optional(Type.String()),
    user: Type.String({ minLength: 1 }),
    sshKeys: Type.Array(Type.String()),
    tags: Type.Array(Type.String()),
    description: Type.Optional(Type.String()),
    started: Type.Boolean(),
    /** Seconds to wait for the guest agent's IP after start. */
    agentTimeoutSec: Type.Number({ exclusiveMinimum: 0 }),
  },
  closed,
);
export type VmWant = Static<typeof VmWant>;

export interface VmHave {
  vmid?: number;
  /** The node it is on now. */
  node?: string;
  config: Record<string, string>;
  /** Keys whose value is pending (applied at the next reboot). */
  pending: string[];
  running: boolean;
  lock?: string;
  firewall: { enabled: boolean; groups: string[] };
  /** Template version the VM was cloned from (from its marker). */
  fromTemplate?: string;
}

type ConfigParams = ParamsFor<"POST", "/nodes/{node}/qemu/{vmid}/config">;
/** The config keys lab manages, typed as the API takes them. */
export type VmConfig = Required<
  Pick<ConfigParams, "cores" | "memory" | "ciuser" | "ipconfig0" | "sshkeys" | "tags">
> & { [nic: `net${number}`]: string };

/** The config lab manages, as PVE stores it. */
export function wantedConfig(w: VmWant): VmConfig {
  const cfg: VmConfig = {
    cores: w.cores,
    memory: String(w.memory),
    ciuser: w.user,
    ipconfig0: w.ip === "dhcp" ? "ip=dhcp" : `ip=${w.ip}${w.gateway ? `,gw=${w.gateway}` : ""}`,
    sshkeys: w.sshKeys.join("\n"),
    // "lab" marks VMs lab manages (and replaces the template's "lab-template" tag).
    tags: [...new Set(["lab", ...w.tags])].sort().join(";"),
  };
  w.nics.forEach((n, i) => (cfg[`net${i}`] = `bridge=${n.bridge},firewall=1,tag=${n.tag}`));
  return cfg;
}

const NIC_MODELS = ["virtio", "e1000", "e1000e", "vmxnet3", "rtl8139"];

/** Compare NICs without their model/MAC (PVE assigns those). */
const nicKey = (v: string | undefined) => {
  if (!v) return "";
  const p = parsePropString(v);
  return `bridge=${p.bridge ?? ""},firewall=${p.firewall ?? "0"},tag=${p.tag ?? "none"}`;
};
const norm = (k: string, v: string | undefined): string => {
  if (v === undefined) return "";
  if (/^net\d+$/.test(k)) return nicKey(v);
  if (k === "sshkeys") return decodeURIComponent(v).trim();
  if (k === "tags") return v.split(/[;, ]/).filter(Boolean).sort().join(";");
  return v;
};

export function vmDiff(want: VmWant, have: VmHave): Change[] {
  if (have.lock) {
    throw new LabError(
      `VM ${want.name} (${have.vmid}) is locked (${have.lock}) by another task`,
      ExitCode.failed,
      {},
      `wait for that task, or if none is running: qm unlock ${have.vmid}`,
    );
  }
  const out: Change[] = [];
  if (have.vmid === undefined) {
    const elsewhere = want.node !== want.template.node ? ` on node ${want.node}` : "";
    out.push(
      valueChange(
        "clone",
        `${want.clone} clone of template ${want.template.name} -> VM ${want.name}${want.vmid ? ` (vmid ${want.vmid})` : ""}${elsewhere}`,
        null,
        defined({ name: want.name, vmid: want.vmid, node: want.node, template: want.template.name, clone: want.clone }),
      ),
    );
  } else if (want.nodePinned && have.node && have.node !== want.node) {
    out.push(
      valueChange(
        "migrate",
        `migrate VM ${want.name} from ${have.node} to ${want.node} (${have.running ? "online" : "offline"})`,
        { node: have.node },
        { node: want.node },
      ),
    );
  }
  const cfg = wantedConfig(want);
  for (const [k, v] of Object.entries(cfg)) {
    if (norm(k, have.config[k]) === norm(k, String(v))) continue;
    const shown = k === "sshkeys" ? `${want.sshKeys.length} key(s)` : v;
    const pending = have.running && ["cores", "memory"].includes(k);
    const before = k === "sshkeys" && have.config[k] !== undefined ? norm(k, have.config[k]) : have.config[k];
    out.push(
      valueChange(
        `config:${k}`,
        `${k}: ${have.vmid === undefined ? "" : `${k === "sshkeys" ? "(changed)" : (have.config[k] ?? "(unset)")} -> `}${shown}`,
        before,
        v,
        pending ? { pending: true } : undefined,
      ),
    );
  }
  for (let i = want.nics.length; have.config[`net${i}`] !== undefined; i++)
    out.push(valueChange(`delete:net${i}`, `remove net${i} (${have.config[`net${i}`]})`, have.config[`net${i}`], null));
  const size = parseSize(parsePropString(have.config.scsi0 ?? "", "file").size ?? "") ?? 0;
  if (want.diskGiB && size < want.diskGiB * 1024 ** 3)
    out.push(
      valueChange(
        "resize",
        `grow scsi0 ${size ? `${Math.round(size / 1024 ** 3)}G` : "(template size)"} -> ${want.diskGiB}G`,
        size ? `${Math.round(size / 1024 ** 3)}G` : null,
        `${want.diskGiB}G`,
      ),
    );
  const groups = want.nics.map((n) => groupName(n.vlan));
  if (!have.firewall.enabled || groups.some((g) => !have.firewall.groups.includes(g)))
    out.push(
      valueChange("firewall", `firewall on, security group(s) ${[...new Set(groups)].join(", ")}`, have.firewall, {
        enabled: true,
        groups: [...new Set([...have.firewall.groups, ...groups])],
      }),
    );
  if (want.started && !have.running)
    out.push(valueChange("start", `start VM ${want.name} and wait for the guest agent's IP`, "stopped", "running"));
  return out;
}

export interface VmDeps {
  pve: (ctx: HostCtx) => Promise<PveApi>;
  ids: (ctx: HostCtx) => Promise<VmidAllocator>;
}

export function vm(deps: VmDeps, want: VmWant): Resource<VmWant, VmHave> {
  checkWant("vm", VmWant, want);
  const version = `${want.template.name}@${templateVersion(want.template)}`;
  return {
    id: `pve:vm/${want.name}`,
    want,
    // One VM failing must not keep the others from being built.
    independent: true,
    async read(ctx) {
      const api = await deps.pve(ctx);
      const all = await listVms(api, { current: true });
      const mine = all.filter((v) => v.name === want.name && !isTemplate(v));
      if (mine.length > 1)
        throw new LabError(
          `${mine.length} VMs are named ${want.name} (${mine.map((v) => v.vmid).join(", ")})`,
          ExitCode.failed,
          {},
          "rename or remove the extra ones; lab manages VMs by name",
        );
      const found = mine[0];
      if (!found) {
        const taken = want.vmid !== undefined ? all.find((v) => v.vmid === want.vmid) : undefined;
        if (taken)
          throw new LabError(
            `VM ${want.name}: vmid ${want.vmid} is taken by ${taken.name ?? "another VM"}`,
            ExitCode.failed,
            {},
            "choose another vmid in vms:",
          );
        return { config: {}, pending: [], running: false, firewall: { enabled: false, groups: [] } };
      }
      const at = { node: found.node, vmid: found.vmid };
      const pendingList = await api.get("/nodes/{node}/qemu/{vmid}/pending", at);
      const config: Record<string, string> = {};
      const pending: string[] = [];
      for (const p of pendingList) {
        const v = p.pending ?? p.value;
        if (p.pending !== undefined) pending.push(p.key);
        if (v !== undefined && !p.delete) config[p.key] = String(v);
      }
      const m = marker(config.description);
      if (m["lab-vm"] !== want.name) {
        throw new LabError(
          `VM ${want.name} (${found.vmid}) exists but was not created by lab (or its clone did not finish)`,
          ExitCode.failed,
          {},
          "lab never takes over such a VM silently: delete it, or rename it and let lab create its own",
        );
      }
      const status = await api.get("/nodes/{node}/qemu/{vmid}/status/current", at);
      const options = await api.get("/nodes/{node}/qemu/{vmid}/firewall/options", at);
      const rules = await api.get("/nodes/{node}/qemu/{vmid}/firewall/rules", at);
      return {
        vmid: found.vmid,
        node: found.node,
        config,
        pending,
        running: status.status === "running",
        ...(status.lock ? { lock: status.lock } : {}),
        firewall: {
          enabled: Number(options.enable ?? 0) === 1,
          groups: rules.filter((r) => r.type === "group").map((r) => r.action),
        },
        ...(m.template ? { fromTemplate: m.template } : {}),
      };
    },
    diff: vmDiff,
    async apply(ctx, changes, have) {
      const api = await deps.pve(ctx);
      let vmid = have.vmid;
      if (vmid === undefined) vmid = await cloneVm(ctx, api, deps, want, version);
      const keys = new Set(changes.map((c) => c.key));
      let node = have.node ?? want.node;
      if (keys.has("migrate")) {
        // Live when it runs (PVE refuses a running VM without online=1); local disks go along.
        const online = have.running ? { online: true, "with-local-disks": true } : {};
        await api.wait(
          await api.post("/nodes/{node}/qemu/{vmid}/migrate", { node, vmid, target: want.node, ...online }),
          `migrate VM ${want.name} to ${want.node}`,
        );
        node = want.node;
      }
      const at = { node, vmid };
      const cfg = wantedConfig(want);
      // The changed keys of cfg.
      const set = Object.fromEntries(Object.entries(cfg).filter(([k]) => keys.has(`config:${k}`))) as Partial<VmConfig>;
      if (set.sshkeys !== undefined) set.sshkeys = encodeURIComponent(set.sshkeys);
      // Keep each NIC's model and MAC ("virtio=BC:24:11:..."): only bridge, tag and firewall are ours.
      for (const k of Object.keys(set).filter((x): x is `net${number}` => /^net\d+$/.test(x))) {
        const p = parsePropString(have.config[k] ?? "");
        const model = NIC_MODELS.find((m) => m in p);
        set[k] = `${model ? `${model}=${p[model]}` : "virtio"},${cfg[k]}`;
      }
      const del = changes.filter((c) => c.key.startsWith("delete:")).map((c) => c.key.slice(7));
      // An empty wanted value (no tags, no keys) is a deletion: PVE keeps a key set to "".
      for (const [k, v] of Object.entries(set)) {
        if (v !== "") continue;
        delete set[k as keyof VmConfig];
        del.push(k);
      }
      if (Object.keys(set).length || del.length) {
        await api.wait(
          await api.post("/nodes/{node}/qemu/{vmid}/config", {
            ...at,
            ...set,
            delete: del.length ? del.join(",") : undefined,
          }),
          `configure VM ${want.name}`,
        );
      }
      if (keys.has("resize"))
        await api.wait(
          await api.put("/nodes/{node}/qemu/{vmid}/resize", { ...at, disk: "scsi0", size: `${want.diskGiB}G` }),
          `resize disk of ${want.name}`,
        );
      if (keys.has("firewall")) {
        await api.put("/nodes/{node}/qemu/{vmid}/firewall/options", { ...at, enable: true });
        const rules = await api.get("/nodes/{node}/qemu/{vmid}/firewall/rules", at);
        for (const g of new Set(want.nics.map((n) => groupName(n.vlan)))) {
          if (!rules.some((r) => r.type === "group" && r.action === g))
            await api.post("/nodes/{node}/qemu/{vmid}/firewall/rules", { ...at, type: "group", action: g, enable: 1 });
        }
      }
      if (keys.has("start")) {
        await api.wait(await api.post("/nodes/{node}/qemu/{vmid}/status/start", at), `start VM ${want.name}`);
      }
      if (want.started && (keys.has("start") || keys.has("clone"))) {
        await waitForAgentIp(api, want, node, vmid, ctx.signal);
      }
    },
    ok: (have) =>
      `VM ${have.vmid} ${have.running ? "running" : "stopped"}, from ${have.fromTemplate ?? "?"}${have.fromTemplate && have.fromTemplate !== version ? ` (template is now ${version}: recreate the VM to move to it)` : ""}${have.pending.length ? `; pending until reboot: ${have.pending.join(", ")}` : ""}`,
  };
}

async function cloneVm(ctx: HostCtx, api: PveApi, deps: VmDeps, want: VmWant, version: string): Promise<number> {
  const tversion = templateVersion(want.template);
  const from = want.template.node;
  const source = (await labTemplates(api, from, want.template.name)).find(
    (t) => t.template && t.version === tversion,
  )?.vmid;
  if (source === undefined)
    throw new LabError(
      `VM ${want.name}: template ${want.template.name} version ${tversion} does not exist`,
      ExitCode.failed,
      {},
      "the template step must run first (same play, earlier)",
    );
  const alloc = await deps.ids(ctx);
  const vmid = want.vmid ?? (await alloc.next(api));
  alloc.reserve(vmid);
  const description = [markerLine({ "lab-vm": want.name, template: version }), want.description ?? ""]
    .filter(Boolean)
    .join("\n");
  try {
    await api.wait(
      await api.post("/nodes/{node}/qemu/{vmid}/clone", {
        node: from,
        vmid: source,
        newid: vmid,
        name: want.name,
        full: want.clone === "full",
        description,
        // Onto another node PVE needs the template on shared storage: a full clone there stays on it.
        storage: want.clone === "full" && want.node === from ? want.storage : undefined,
        target: want.node !== from ? want.node : undefined,
      }),
      `clone template ${source} to VM ${vmid} (${want.name})`,
    );
  } catch (e) {
    // A clone that failed half-way is removed, never left to be picked up as good.
    const cleaned = await api
      .delete("/nodes/{node}/qemu/{vmid}", { node: want.node, vmid, purge: true })
      .then((u) => api.wait(u, `remove half-made VM ${vmid}`))
      .then(
        () => true,
        (d: unknown) => isMissing(d),
      );
    throw new LabError(
      `VM ${want.name}: clone failed: ${errorMessage(e)}; ${cleaned ? `half-made VM ${vmid} removed` : `half-made VM ${vmid} could not be removed (lab will refuse to reuse it)`}`,
      ExitCode.failed,
    );
  }
  return vmid;
}

async function waitForAgentIp(
  api: PveApi,
  want: VmWant,
  node: string,
  vmid: number,
  signal: AbortSignal,
): Promise<string> {
  const deadline = Date.now() + want.agentTimeoutSec * 1000;
  let last = "";
  while (Date.now() < deadline && !signal.aborted) {
    try {
      const ip = await agentIpv4(api, node, vmid);
      if (ip) return ip;
    } catch (e) {
      last = errorMessage(e);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new LabError(
    `VM ${want.name} (${vmid}): the guest agent reported no IPv4 address within ${want.agentTimeoutSec} s${last ? ` (last answer: ${last})` : ""}`,
    ExitCode.failed,
    {},
    "check that the image has qemu-guest-agent and cloud-init networking works on its VLAN",
  );
}
