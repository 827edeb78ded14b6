// Mode/owner/group differences, shared by file and directory.
import type { Change } from "../engine/types.ts";
import { badInput } from "../errors.ts";
import type { PathState } from "./path-fact.ts";

export interface WantAttrs {
  mode?: string;
  owner?: string;
  group?: string;
}

/** Extra fields a value change may carry. */
type ChangeMore = Pick<Change, "pending" | "sensitive" | "diff">;

/**
 * A change from one value to another, for the JSON report's before/after: null means absent
 * (created: before null; removed: after null). A Secret anywhere in a value shows as the marker.
 */
export function valueChange(key: string, summary: string, before: unknown, after: unknown, more?: ChangeMore): Change {
  return { key, summary, before: before ?? null, after: after ?? null, ...more };
}

/** An object's wanted state without its unset fields (the after of a created object). */
export const defined = (o: object): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** What is at a path, as a removed object's before (never its content). */
export const pathValue = (have: PathState): Record<string, unknown> =>
  defined({ kind: have.kind, mode: have.mode, owner: have.owner, group: have.group });

export function attrChanges(want: WantAttrs, have: PathState, existed: boolean): Change[] {
  const out: Change[] = [];
  if (want.mode && have.mode !== want.mode)
    out.push({
      key: "mode",
      summary: `mode ${existed ? have.mode : "(new)"} -> ${want.mode}`,
      before: existed ? have.mode : null,
      after: want.mode,
    });
  if (want.owner && have.owner !== want.owner)
    out.push({
      key: "owner",
      summary: `owner ${existed ? have.owner : "(new)"} -> ${want.owner}`,
      before: existed ? have.owner : null,
      after: want.owner,
    });
  if (want.group && have.group !== want.group)
    out.push({
      key: "group",
      summary: `group ${existed ? have.group : "(new)"} -> ${want.group}`,
      before: existed ? have.group : null,
      after: want.group,
    });
  return out;
}

const OWNER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/;

/** A user or group name (or numeric id) as chown takes it: never an option, never "a:b" smuggled into one field. */
export function checkOwner(what: string, want: WantAttrs): void {
  for (const [field, v] of [
    ["owner", want.owner],
    ["group", want.group],
  ] as const) {
    if (v !== undefined && (!OWNER.test(v) || v.length > 32)) {
      throw badInput(
        `${what}: ${field} ${JSON.stringify(v)} is not a user/group name`,
        {},
        "use a name like www-data, or a numeric id",
      );
    }
  }
}
