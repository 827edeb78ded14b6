// Measurements and verdicts, pure: RTO (restore start to verified, by phase),
// RPO (declared failure time minus the newest heartbeat that survived the
// latest-point restore), and the WAL-gap test: a copy whose recovery ended below
// the archive's newest segment stopped at a hole, which is named.
import { formatDuration } from "../backup/duration.ts";
import { archivedSegments, missingSegments, parseSegment, segmentName, type Segment } from "../backup/wal.ts";
import type { CheckResult } from "./checks.ts";

export interface Phases {
  readonly copySec: number;
  readonly bytes: number;
  readonly mbPerSec: number;
  readonly startSec: number;
  readonly replaySec: number;
  readonly checksSec: number;
}

export interface RestoreOutcome {
  readonly repository: string;
  readonly repoIndex: number;
  readonly to: "marker" | "latest";
  /** What was restored, for a person: the restore point, or the end of the archive. */
  readonly point: string;
  readonly backup?: string;
  readonly phases?: Phases;
  readonly rtoSec?: number;
  readonly checks: readonly CheckResult[];
  /** Latest-point restores: declared failure, newest surviving heartbeat (epoch s), RPO. */
  readonly failureAt?: string;
  readonly newestHeartbeatAt?: string;
  readonly rpoSec?: number;
  readonly endLsn?: string;
  readonly ok: boolean;
  readonly problems: readonly string[];
}

export const mbPerSec = (bytes: number, sec: number) => (sec > 0 ? Math.round((bytes / 1_048_576 / sec) * 10) / 10 : 0);

export const rtoOf = (p: Omit<Phases, "bytes" | "mbPerSec">) => p.copySec + p.startSec + p.replaySec + p.checksSec;

/** "16/B000028" -> its 64-bit position. */
export function lsnValue(lsn: string): bigint {
  const m = /^([0-9A-F]+)\/([0-9A-F]+)$/i.exec(lsn);
  if (!m) throw new Error(`not an LSN: ${lsn}`);
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}

/** The segment holding the last byte before `lsn` (a switch point at a segment boundary belongs to the previous one). */
export function segmentBefore(lsn: string, timeline: number): Segment {
  const v = lsnValue(lsn);
  const seq = Number((v > 0n ? v - 1n : 0n) >> 24n);
  return { timeline, seq, name: segmentName(timeline, seq) };
}

/**
 * Did recovery reach the archive's end? `listing` is the repository's archive
 * listing taken just before the restore, `fromSegment` the restored backup's
 * first WAL segment. Undefined when it did; otherwise the failure, naming the
 * missing segment(s).
 */
export function walGap(o: {
  endLsn: string;
  endTimeline: number;
  listing: Record<string, { type: string }>;
  fromSegment: string;
}): string | undefined {
  const segments = archivedSegments(o.listing);
  const from = parseSegment(o.fromSegment);
  const onLine = segments.filter((s) => from && s.timeline === from.timeline);
  const max = onLine[onLine.length - 1];
  if (!max || !from) return undefined;
  const reached = segmentBefore(o.endLsn, from.timeline);
  if (reached.seq >= max.seq) return undefined;
  const missing = missingSegments(segments, from.name, max.name);
  const named = missing.length
    ? `missing WAL segment${missing.length > 1 ? "s" : ""} ${missing.length <= 3 ? missing.join(", ") : `${missing[0]} .. ${missing[missing.length - 1]} (${missing.length})`}`
    : "no segment is missing from the listing (a damaged one?)";
  return `recovery stopped at ${o.endLsn} (segment ${reached.name}) but the repository's archive reaches ${max.name}: ${named}`;
}

/** RPO problems of a latest-point restore. */
export function rpoFindings(o: {
  failureAtSec: number;
  newestHeartbeatSec: number | undefined;
  rpoPolicySec: number;
}): { rpoSec?: number; problems: string[] } {
  if (o.newestHeartbeatSec === undefined)
    return {
      problems: [
        "no heartbeat of this drill survived in the latest-point copy: it lost everything since the drill started",
      ],
    };
  const rpoSec = Math.max(0, o.failureAtSec - o.newestHeartbeatSec);
  return {
    rpoSec,
    problems:
      rpoSec > o.rpoPolicySec
        ? [
            `RPO ${formatDuration(rpoSec)} exceeds the policy's ${formatDuration(o.rpoPolicySec)}: the newest surviving heartbeat is from ${new Date(o.newestHeartbeatSec * 1000).toISOString()}`,
          ]
        : [],
  };
}

export const rtoFindings = (rtoSec: number, policySec: number): string[] =>
  rtoSec > policySec ? [`RTO ${formatDuration(rtoSec)} exceeds the policy's ${formatDuration(policySec)}`] : [];
