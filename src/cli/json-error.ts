// `lab plan|apply --json` and the run fails before a report exists (bad input, lock held, a bug): the
// error as one object on stdout (docs/schema/report.schema.json, `error`), the human
// message on stderr as always.
import { CommanderError } from "commander";
import { LabError } from "../errors.ts";
import { REPORT_FORMAT_VERSION } from "../engine/output.ts";

export function jsonError(e: unknown, code: number): string {
  const w = e instanceof LabError ? e.where : {};
  const message =
    e instanceof CommanderError ? e.message.replace(/^error: /, "") : e instanceof Error ? e.message : String(e);
  return JSON.stringify({
    format_version: REPORT_FORMAT_VERSION,
    error: {
      code,
      message,
      ...(w.file ? { file: w.file } : {}),
      ...(w.line ? { line: w.line } : {}),
      ...(w.col ? { column: w.col } : {}),
      ...(w.host ? { host: w.host } : {}),
      ...(e instanceof LabError && e.hint ? { hint: e.hint } : {}),
    },
  });
}
