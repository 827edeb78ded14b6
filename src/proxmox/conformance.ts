// Conformance of recorded calls (the client's recorder hook, LAB_PVE_RECORD
// files) with the official schema: every path and method must exist, every
// parameter name must be one PVE accepts, required ones must be there. Values
// are not recorded (they may be secrets), so their types are checked live by
// the simulator instead.
import type { RecordedCall } from "./transport.ts";
import { type ApiSchema, pveSchema } from "./schema.ts";

export interface CallProblem {
  readonly call: RecordedCall;
  readonly problem: string;
}

export function checkCalls(calls: readonly RecordedCall[], schema: ApiSchema = pveSchema()): CallProblem[] {
  const problems: CallProblem[] = [];
  for (const call of calls) {
    const match = schema.match(call.path);
    if (!match || !schema.method(match.template, call.method)) {
      problems.push({ call, problem: `${call.method} ${call.path} is not in the API schema` });
      continue;
    }
    const { template, pathParams } = match;
    for (const key of call.keys) {
      if (!schema.param(template, call.method, key)) problems.push({ call, problem: `parameter '${key}' is not defined for ${call.method} ${template}` });
    }
    for (const key of schema.required(template, call.method)) {
      if (!(key in pathParams) && !call.keys.includes(key)) problems.push({ call, problem: `required parameter '${key}' missing in ${call.method} ${template}` });
    }
  }
  return problems;
}
