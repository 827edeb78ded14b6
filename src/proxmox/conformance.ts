// Conformance of recorded calls (the client's recorder hook, LAB_PVE_RECORD
// files) with the official schemas, PVE or PBS by the call's product: every
// path and method must exist, every parameter name must be one the server
// accepts and required ones must be there, every VALUE must pass the schema's
// type, format and pattern (as the server's validator checks it), and every
// 200 reply must match the method's `returns` strictly (JSON types, no
// undeclared keys), except where the real server itself is known to differ
// (known-drift.ts). Secret values are recorded as REDACTED and not checked.
import { replyViolations } from "./known-drift.ts";
import { type RecordedCall, REDACTED } from "./transport.ts";
import { type ApiSchema, pbsSchema, pveSchema } from "./schema.ts";

export interface CallProblem {
  readonly call: RecordedCall;
  readonly problem: string;
}

/** Check recorded calls; `schema` forces one schema for all (else each call's product picks it). */
export function checkCalls(calls: readonly RecordedCall[], schema?: ApiSchema): CallProblem[] {
  const problems: CallProblem[] = [];
  for (const call of calls) {
    const product = call.product ?? (schema === pbsSchema() ? "pbs" : "pve");
    const s = schema ?? (product === "pbs" ? pbsSchema() : pveSchema());
    const match = s.match(call.path);
    if (!match || !s.method(match.template, call.method)) {
      problems.push({ call, problem: `${call.method} ${call.path} is not in the API schema` });
      continue;
    }
    const { template, pathParams } = match;
    const at = `${call.method} ${template}`;
    for (const key of call.keys) {
      if (!s.param(template, call.method, key))
        problems.push({ call, problem: `parameter '${key}' is not defined for ${at}` });
    }
    for (const key of s.required(template, call.method)) {
      if (!(key in pathParams) && !call.keys.includes(key))
        problems.push({ call, problem: `required parameter '${key}' missing in ${at}` });
    }
    // A 400 is the server's own validator refusing the values (tests send such calls on purpose): nothing more to check.
    if (call.values && call.status !== 400) {
      const params: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(call.values)) {
        // Form values: an array parameter sent once is a one-element list (as the servers collect it).
        params[k] = s.param(template, call.method, k)?.type === "array" && !Array.isArray(v) ? [v] : v;
      }
      const redacted = Object.keys(params).filter((k) => params[k] === REDACTED);
      for (const v of s.checkRequest(call.method, call.path, params).violations) {
        const key = v.path.split(".")[0]!;
        if (
          redacted.includes(key) ||
          !s.param(template, call.method, key) ||
          v.message.startsWith("property is missing")
        )
          continue;
        problems.push({ call, problem: `${at}: ${v.path}: ${v.message.replace(/\n+$/, "").replace(/\n/g, "; ")}` });
      }
    }
    if (call.status === 200 && "reply" in call) {
      for (const v of replyViolations(s, product, call.method, template, call.reply)) {
        if (v.message.includes(REDACTED)) continue;
        problems.push({ call, problem: `reply to ${at}: ${v.path}: ${v.message}` });
      }
    }
  }
  return problems;
}
