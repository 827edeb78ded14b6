// The audit log: one JSON line per apply in `.lab/audit.jsonl`, append-only (O_APPEND),
// mode 0600. Every string is redacted before serialising (so JSON escaping cannot
// hide a secret from the redactor) and the line is redacted again as a whole.
import { closeSync, fchmodSync, fdatasyncSync, fstatSync, mkdirSync, openSync, writeSync } from "node:fs";
import { mkdir, open, readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { Redactor, Secret } from "../secrets/secret.ts";
import { currentUser } from "../user.ts";

export interface AuditChange {
  host: string;
  /** Resource id: "file:/etc/motd". */
  resource: string;
  /** The Change's one-line summary. */
  summary: string;
}

/** "aborted": a second signal stopped the run at once (steps in `inFlight` were cut off mid-way). */
export type AuditOutcome = "ok" | "changed" | "failed" | "unreachable" | "interrupted" | "aborted" | "error";

export interface AuditRecord {
  /** ISO 8601. */
  time: string;
  user: string;
  /** The machine lab ran on. */
  host: string;
  /** The command line as typed (redacted). */
  argv: string[];
  playbook: string;
  /** Hosts the run targeted. */
  hosts: string[];
  limit?: string;
  check: boolean;
  changes: AuditChange[];
  outcome: AuditOutcome;
  exitCode: number;
  durationMs: number;
  /** Steps that were running when the run was aborted (their remote commands may still run). */
  inFlight?: { host: string; resource: string }[];
}

/** What the caller supplies; time, user and host default to now and this machine. */
export type AuditEntry = Omit<AuditRecord, "time" | "user" | "host"> &
  Partial<Pick<AuditRecord, "time" | "user" | "host">>;

export interface AuditOptions {
  /** Project root; the log is `<root>/.lab/audit.jsonl` unless `file` is given. */
  root: string;
  file?: string;
  /** Default: the process-wide redactor that every loaded Secret registered with. */
  redactor?: Redactor;
}

export const auditFile = (opts: AuditOptions): string => opts.file ?? join(opts.root, ".lab", "audit.jsonl");

/** Append one record; returns it as written (redacted). */
export async function appendAudit(entry: AuditEntry, opts: AuditOptions): Promise<AuditRecord> {
  const { record, line, file } = prepareLine(entry, opts);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const fh = await open(file, "a", 0o600); // "a" = O_WRONLY|O_CREAT|O_APPEND
  try {
    // The mode only applies on creation: tighten a log someone loosened.
    if (((await fh.stat()).mode & 0o777) !== 0o600) await fh.chmod(0o600);
    await fh.write(line); // one write: concurrent appends do not interleave within a line
    await fh.datasync();
  } finally {
    await fh.close();
  }
  return record;
}

/** The same, synchronously: for the moment before a hard exit (a second signal), when nothing async will run again. */
export function appendAuditSync(entry: AuditEntry, opts: AuditOptions): AuditRecord {
  const { record, line, file } = prepareLine(entry, opts);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const fd = openSync(file, "a", 0o600);
  try {
    if ((fstatSync(fd).mode & 0o777) !== 0o600) fchmodSync(fd, 0o600);
    writeSync(fd, line);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return record;
}

function prepareLine(entry: AuditEntry, opts: AuditOptions): { record: AuditRecord; line: string; file: string } {
  const redactor = opts.redactor ?? Redactor.global;
  const record = redactDeep(
    { time: new Date().toISOString(), user: currentUser(), host: hostname(), ...entry },
    redactor,
  );
  return { record, line: `${redactor.redact(JSON.stringify(record))}\n`, file: auditFile(opts) };
}

/** All records, oldest first (for `lab audit` and tests). A missing log is empty. */
export async function readAudit(opts: AuditOptions): Promise<AuditRecord[]> {
  let text: string;
  try {
    text = await readFile(auditFile(opts), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as AuditRecord);
}

/** Every string (keys too) through the redactor; Secrets become their «secret:NAME» marker. */
export function redactDeep<T>(value: T, redactor: Redactor = Redactor.global): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return redactor.redact(v);
    if (v instanceof Secret) return v.toString();
    if (Array.isArray(v)) return v.map(walk);
    if (v instanceof Date) return v.toISOString();
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [redactor.redact(k), walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}
