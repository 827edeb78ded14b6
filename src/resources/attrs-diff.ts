// Mode/owner/group differences, shared by file and directory.
import type { Change } from "../engine/types.ts";
import type { PathState } from "./path-fact.ts";

export interface WantAttrs {
  mode?: string;
  owner?: string;
  group?: string;
}

export function attrChanges(want: WantAttrs, have: PathState, existed: boolean): Change[] {
  const out: Change[] = [];
  if (want.mode && have.mode !== want.mode) out.push({ key: "mode", summary: `mode ${existed ? have.mode : "(new)"} -> ${want.mode}` });
  if (want.owner && have.owner !== want.owner) out.push({ key: "owner", summary: `owner ${existed ? have.owner : "(new)"} -> ${want.owner}` });
  if (want.group && have.group !== want.group) out.push({ key: "group", summary: `group ${existed ? have.group : "(new)"} -> ${want.group}` });
  return out;
}
