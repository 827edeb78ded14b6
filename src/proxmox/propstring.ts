// Proxmox "property strings": `virtio=BC:24:11:00:00:01,bridge=vmbr0,tag=10`,
// `local-lvm:vm-100-disk-0,size=32G`. A part without `=` belongs to the
// format's default key (model, file, ...).

/** Parse without a schema: a part without `=` goes to `defaultKey` (or "" when none given). */
export function parsePropString(text: string, defaultKey = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(",")) {
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    if (eq < 0) out[defaultKey] = part;
    else out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** The inverse of parsePropString: the default key first, without its name. */
export function formatPropString(values: Record<string, string | number | undefined>, defaultKey = ""): string {
  const parts: string[] = [];
  const head = values[defaultKey];
  if (head !== undefined) parts.push(String(head));
  for (const [k, v] of Object.entries(values)) {
    if (k !== defaultKey && v !== undefined) parts.push(`${k}=${v}`);
  }
  return parts.join(",");
}

/** Disk sizes as PVE writes them (`32G`, `512M`) to bytes; undefined when not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT])?$/.exec(text);
  if (!m) return undefined;
  const exp = m[2] ? "KMGT".indexOf(m[2]) + 1 : 0;
  return Math.floor(Number(m[1]) * 1024 ** exp);
}

/** Bytes to PVE's shortest exact unit (PVE::JSONSchema::format_size). */
export function formatSize(bytes: number): string {
  let n = Math.floor(bytes);
  for (const unit of ["", "K", "M", "G"]) {
    if (n % 1024 !== 0 || n === 0) return `${n}${unit}`;
    n /= 1024;
  }
  return `${n}T`;
}
