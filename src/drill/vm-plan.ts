// The pure decisions of a VM drill: which backups are restored (the newest, and
// when due a seeded random pick among the older retained ones), which scratch
// VMID a copy gets (the top of the endpoint's vmid_range, away from where
// `lab apply` allocates), how a copy is marked (tag + description marker, so a
// crashed drill's leftovers are found and only they are removed), and how every
// NIC is moved to the drill VLAN with a fresh MAC.
import { formatPropString, parsePropString } from "../proxmox/propstring.ts";
import { marker, markerLine } from "../proxmox/resources/find.ts";

/** The tag every scratch copy carries (with the description marker: both must match to be removed). */
export const DRILL_TAG = "lab-drill";
const NIC = /^net\d+$/;
const NIC_MODELS = ["virtio", "e1000", "e1000e", "vmxnet3", "rtl8139"];

/** One backup of a VM as Proxmox lists it. */
export interface VmBackupRef {
  readonly volid: string;
  /** Unix seconds. */
  readonly ctime: number;
}

export interface PlannedVmRestore {
  readonly which: "newest" | "older";
  readonly backup: VmBackupRef;
  /** Older restores: the seed of the random pick and how many older backups it chose from. */
  readonly seed?: number;
  readonly candidates?: number;
}

/** A 32-bit seed from any text (FNV-1a): the run id gives every run its own, recorded pick. */
export function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

/** mulberry32: a small seeded PRNG in [0, 1); the same seed picks the same backup again. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The newest backup, and with `older` one older retained backup chosen by `seed`; none: no backup. */
export function planVmRestores(backups: readonly VmBackupRef[], older: boolean, seed: number): PlannedVmRestore[] {
  const sorted = [...backups].sort((a, b) => a.ctime - b.ctime || a.volid.localeCompare(b.volid));
  const newest = sorted[sorted.length - 1];
  if (!newest) return [];
  const out: PlannedVmRestore[] = [{ which: "newest", backup: newest }];
  const candidates = sorted.slice(0, -1);
  if (older && candidates.length) {
    const pick = candidates[Math.floor(seededRandom(seed)() * candidates.length)]!;
    out.push({ which: "older", backup: pick, seed, candidates: candidates.length });
  }
  return out;
}

/** Is an older-backup restore due: forced, or none passed within `everySec` (times of past passing older restores). */
export function olderDue(forced: boolean, lastOlderPass: Date | undefined, everySec: number, now: Date): boolean {
  return forced || !lastOlderPass || (now.getTime() - lastOlderPass.getTime()) / 1000 >= everySec;
}

/** The highest free VMID of the range (lab apply allocates from the bottom). */
export function scratchVmid(range: { min: number; max: number }, used: ReadonlySet<number>): number | undefined {
  for (let id = range.max; id >= range.min; id--) if (!used.has(id)) return id;
  return undefined;
}

/** The marking of a scratch copy: its name, tag and the description marker naming the run. */
export function scratchMarking(o: { run: string; target: string; vm: string; volid: string }): {
  name: string;
  tags: string;
  description: string;
} {
  return {
    name: `${DRILL_TAG}-${o.vm}`.slice(0, 63).replace(/-+$/, ""),
    tags: DRILL_TAG,
    description: `${markerLine({ [DRILL_TAG]: o.run, target: o.target, source: o.vm })}\nRestore drill copy of ${o.vm} from ${o.volid}: lab drill destroys it when the drill ends, or the next drill does.`,
  };
}

/** A VM is a drill's leftover only when it carries both the tag and the marker (and the marker names a run). */
export function isDrillCopy(tags: string | undefined, description: string | undefined): boolean {
  const tagged = (tags ?? "").split(/[;, ]/).includes(DRILL_TAG);
  return tagged && Boolean(marker(description)[DRILL_TAG]);
}

/** The run a copy's marker names. */
export const drillRunOf = (description: string | undefined): string | undefined => marker(description)[DRILL_TAG];

/**
 * Every NIC of a config moved to VLAN `tag` on its own bridge, without its MAC
 * (Proxmox then assigns a fresh one), firewall kept: the overrides of the restore.
 */
export function nicsOnVlan(config: Readonly<Record<string, unknown>>, tag: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (!NIC.test(key) || typeof value !== "string") continue;
    const parts = parsePropString(value, "model");
    const model = NIC_MODELS.find((m) => m in parts) ?? parts.model ?? "virtio";
    const rest = Object.fromEntries(
      Object.entries(parts).filter(
        ([k]) => k !== "model" && k !== "macaddr" && !NIC_MODELS.includes(k) && k !== "tag" && k !== "trunks",
      ),
    );
    out[key] = formatPropString({ model, ...rest, tag: String(tag) }, "model");
  }
  return out;
}

/** NICs of a config that are not on VLAN `tag` (must be none before a copy starts). */
export const nicsOffVlan = (config: Readonly<Record<string, unknown>>, tag: number): string[] =>
  Object.entries(config)
    .filter(([k, v]) => NIC.test(k) && typeof v === "string" && parsePropString(v).tag !== String(tag))
    .map(([k]) => k)
    .sort();

/** The MAC of every NIC of a config. */
export const macsOf = (config: Readonly<Record<string, unknown>>): string[] =>
  Object.entries(config).flatMap(([k, v]) => {
    if (!NIC.test(k) || typeof v !== "string") return [];
    const p = parsePropString(v, "model");
    const mac = NIC_MODELS.map((m) => p[m]).find(Boolean) ?? p.macaddr;
    return mac ? [mac.toUpperCase()] : [];
  });
