// WAL segment names (TTTTTTTTLLLLLLLLSSSSSSSS: timeline, log, segment in hex) and
// the gaps in a repository's archive. pgBackRest's own `verify` (2.45) does not
// report a segment missing from the archive, so lab checks the listing itself.

/** 16 MiB segments (PostgreSQL's default): 256 segments per "log" number. */
const SEGMENTS_PER_LOG = 0x100;

export interface Segment {
  readonly timeline: number;
  /** Position in the WAL stream: log * 256 + segment. */
  readonly seq: number;
  readonly name: string;
}

export function parseSegment(name: string): Segment | undefined {
  const m = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})$/.exec(name.slice(0, 24));
  if (!m || (name.length > 24 && name[24] !== "-" && name[24] !== ".")) return undefined;
  return {
    timeline: parseInt(m[1]!, 16),
    seq: parseInt(m[2]!, 16) * SEGMENTS_PER_LOG + parseInt(m[3]!, 16),
    name: name.slice(0, 24),
  };
}

export const segmentName = (timeline: number, seq: number): string =>
  [timeline, Math.floor(seq / SEGMENTS_PER_LOG), seq % SEGMENTS_PER_LOG]
    .map((n) => n.toString(16).toUpperCase().padStart(8, "0"))
    .join("");

/**
 * Segments of an archive listing (`pgbackrest repo-ls --recurse --output=json archive/STANZA`):
 * files named SEGMENT-SHA1[.ext]; `.backup`/`.history` files are not segments.
 */
export function archivedSegments(listing: Record<string, { type: string }>): Segment[] {
  const out: Segment[] = [];
  for (const [path, entry] of Object.entries(listing)) {
    if (entry.type !== "file") continue;
    const base = path.split("/").pop() ?? "";
    if (!/^[0-9A-F]{24}-[0-9a-f]{40}/.test(base)) continue;
    const s = parseSegment(base);
    if (s) out.push(s);
  }
  return out.sort((a, b) => a.timeline - b.timeline || a.seq - b.seq);
}

/**
 * Segments missing between `from` and `to` (inclusive) on one timeline. A later
 * timeline's segment counts for the positions it covers (after a promotion the
 * stream continues on the new timeline).
 */
export function missingSegments(segments: readonly Segment[], from: string, to: string): string[] {
  const a = parseSegment(from);
  const b = parseSegment(to);
  if (!a || !b) return [];
  const have = new Set(segments.filter((s) => s.timeline >= a.timeline).map((s) => s.seq));
  const missing: string[] = [];
  for (let seq = a.seq; seq <= b.seq; seq++) if (!have.has(seq)) missing.push(segmentName(b.timeline, seq));
  return missing;
}
