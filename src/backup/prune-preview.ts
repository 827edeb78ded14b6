// `lab backup prune-preview FILE`: which snapshots a PBS prune with these keep
// options would remove, offline. The file is JSON (or YAML); errors name
// file:line:col like inventory errors do (exit 2).
import { Ajv, type ValidateFunction } from "ajv";
import { badInput, type LabError } from "../errors.ts";
import { parseYaml, readYaml, type YamlSource } from "../inventory/yaml-source.ts";
import { pickError, schemaError } from "../inventory/validate.ts";
import { localTimeFormat } from "./local-time.ts";
import { isTimeZone, type KeepOptions, type KeepReason, type PruneSnapshot, selectPrune } from "./prune.ts";

const count = { type: "integer", minimum: 0 };
/** RFC 3339 with a zone (Z or ±hh:mm), as PBS prints backup times and as `date -Is` does. */
const RFC3339 = "^\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?([Zz]|[+-]\\d{2}:\\d{2})$";

export const previewSchema = {
  type: "object",
  additionalProperties: false,
  required: ["keep", "timezone", "snapshots"],
  properties: {
    keep: {
      type: "object",
      additionalProperties: false,
      properties: { last: count, hourly: count, daily: count, weekly: count, monthly: count, yearly: count },
    },
    timezone: {
      type: "string",
      minLength: 1,
      description: "the PBS server's time zone (IANA name, e.g. Europe/Berlin)",
    },
    snapshots: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["time"],
        properties: {
          time: { type: "string", pattern: RFC3339 },
          finished: { type: "boolean" },
          protected: { type: "boolean" },
        },
      },
    },
  },
} as const;

const validate: ValidateFunction<PreviewInput> = new Ajv({ allErrors: true, strict: false, verbose: true }).compile(
  previewSchema,
);

export interface PreviewInput {
  keep: KeepOptions;
  timezone: string;
  snapshots: { time: string; finished?: boolean; protected?: boolean }[];
}

export interface PreviewRow extends PruneSnapshot {
  /** The time exactly as written in the file. */
  readonly label: string;
  readonly keep: boolean;
  readonly reason?: KeepReason;
}

export async function loadPreview(file: string): Promise<PreviewInput> {
  return checkPreview(await readYaml(file, "check the FILE argument"));
}

export const parsePreview = (file: string, text: string): PreviewInput => checkPreview(parseYaml(file, text));

function checkPreview(src: YamlSource): PreviewInput {
  if (!validate(src.data)) {
    const first = pickError(validate.errors ?? [])!;
    if (first.keyword === "pattern") {
      const path = first.instancePath
        .split("/")
        .slice(1)
        .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
      throw at(
        src,
        path,
        `${path.join(".")}: not an RFC 3339 time with a zone: ${JSON.stringify(first.data)}`,
        "write times like 2026-01-01T02:00:00Z or 2026-01-01T03:00:00+01:00",
      );
    }
    const e = schemaError(src, first);
    // schemaError's generic hint points at the inventory schema; name this file's shape instead.
    throw !e.hint?.includes("inventory/schema.json")
      ? e
      : rehint(
          e,
          'the file is {"keep": {"last"?: n, "daily"?: n, ...}, "timezone": "Europe/Berlin", "snapshots": [{"time": "...", "finished"?: bool, "protected"?: bool}]}',
        );
  }
  const input = src.data;
  if (!isTimeZone(input.timezone)) {
    throw at(
      src,
      ["timezone"],
      `timezone: unknown time zone "${input.timezone}"`,
      "use an IANA zone name such as Europe/Berlin, America/New_York or UTC",
    );
  }
  const seen = new Map<number, number>();
  input.snapshots.forEach((s, i) => {
    const epoch = Date.parse(s.time);
    if (Number.isNaN(epoch))
      throw at(
        src,
        ["snapshots", i, "time"],
        `snapshots.${i}.time: not a valid date/time "${s.time}"`,
        "check month, day and hour ranges",
      );
    const dup = seen.get(epoch);
    if (dup !== undefined) {
      throw at(
        src,
        ["snapshots", i, "time"],
        `snapshots.${i}.time: "${s.time}" is the same backup time as snapshots.${dup}`,
        "a PBS group holds one snapshot per backup time; remove the duplicate",
      );
    }
    seen.set(epoch, i);
  });
  return input;
}

const at = (src: YamlSource, path: (string | number)[], message: string, hint: string): LabError =>
  badInput(message, { file: src.file, ...src.position(path) }, hint);
const rehint = (e: LabError, hint: string): LabError => badInput(e.message, e.where, hint);

/** The preview, oldest first; fractional seconds are dropped like PBS's backup-time (whole seconds). */
export function previewPrune(input: PreviewInput): PreviewRow[] {
  const list = input.snapshots.map((s) => ({
    label: s.time,
    time: Math.floor(Date.parse(s.time) / 1000),
    finished: s.finished ?? true,
    protected: s.protected ?? false,
  }));
  return selectPrune(list, input.keep, input.timezone)
    .reverse()
    .map((d) => ({
      ...d.snapshot,
      keep: d.mark !== "remove",
      ...(d.reason ? { reason: d.reason } : {}),
    }));
}

export function previewJson(rows: readonly PreviewRow[]): { keep: string[]; remove: string[] } {
  return {
    keep: rows.filter((r) => r.keep).map((r) => r.label),
    remove: rows.filter((r) => !r.keep).map((r) => r.label),
  };
}

export function previewTable(rows: readonly PreviewRow[], timeZone: string): string {
  const fmt = localTimeFormat(timeZone, { offset: true });
  const lines = rows.map((r) => [
    r.label,
    fmt.format(new Date(r.time * 1000)),
    r.keep ? "keep" : "remove",
    [r.reason ?? "", r.finished ? "" : "unfinished"].filter(Boolean).join(", "),
  ]);
  const header = ["TIME", `LOCAL (${timeZone})`, "ACTION", "KEPT BY"];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cols: string[]) =>
    cols
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const kept = rows.filter((r) => r.keep).length;
  return [row(header), ...lines.map(row), "", `${kept} kept, ${rows.length - kept} removed`].join("\n") + "\n";
}
