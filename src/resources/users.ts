// user and group: local accounts (useradd/usermod/userdel, groupadd/groupdel).
import type { Change, Fact, Resource } from "../engine/types.ts";
import { badInput } from "../errors.ts";
import { defined, valueChange } from "./attrs-diff.ts";
import { sh } from "../sh.ts";
import { Type, type Static } from "@sinclair/typebox";
import { checkOptions, closed, oneOf, type ResourceOptions } from "./options.ts";
import { run } from "./run.ts";
import { withFact } from "./with-fact.ts";

const NAME = /^[a-z_][a-z0-9_-]*\$?$/;
const checkName = (kind: string, n: string) => {
  if (!NAME.test(n) || n.length > 32)
    throw badInput(`invalid ${kind} name ${JSON.stringify(n)}`, {}, "use lowercase letters, digits, _ and -");
};

export const UserWant = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    uid: Type.Optional(Type.Integer({ minimum: 0 })),
    shell: Type.Optional(Type.String()),
    home: Type.Optional(Type.String()),
    /** Supplementary groups (exact list when given). */
    groups: Type.Optional(Type.Array(Type.String())),
    system: Type.Optional(Type.Boolean()),
    state: Type.Optional(oneOf(["present", "absent"])),
  },
  closed,
);
export type UserWant = Static<typeof UserWant>;

export interface UserState {
  exists: boolean;
  uid?: number;
  shell?: string;
  home?: string;
  groups: string[];
}

export function userFact(name: string): Fact<UserState> {
  return {
    key: `user:${name}`,
    command: sh`getent passwd ${name} && id -Gn ${name}`,
    parse(out, code) {
      if (code !== 0) return { exists: false, groups: [] };
      const [pw = "", groups = ""] = out.split("\n");
      const f = pw.split(":");
      // id -Gn lists the primary group first.
      return {
        exists: true,
        uid: Number(f[2]),
        home: f[5],
        shell: f[6],
        groups: groups.trim().split(/\s+/).slice(1).sort(),
      };
    },
  };
}

export function user(want: UserWant, opts: ResourceOptions = {}): Resource<UserWant, UserState> {
  checkOptions("user", UserWant, want, opts);
  checkName("user", want.name);
  want.groups?.forEach((g) => checkName("group", g));
  const fact = userFact(want.name);
  return withFact(fact, {
    id: `user:${want.name}`,
    want,
    ...opts,
    diff: userDiff,
    async apply(ctx, _changes, have) {
      const args: string[] = [];
      if (want.uid !== undefined) args.push("-u", String(want.uid));
      if (want.shell) args.push("-s", want.shell);
      if (want.home) args.push("-d", want.home);
      if (want.groups) args.push("-G", want.groups.join(","));
      const cmd =
        want.state === "absent"
          ? sh`userdel ${want.name}`
          : have.exists
            ? sh`usermod ${args} ${want.name}`
            : sh`useradd -m ${want.system ? ["-r"] : []} ${args} ${want.name}`;
      await run(
        ctx,
        cmd,
        `${want.state === "absent" ? "remove" : have.exists ? "modify" : "create"} user ${want.name}`,
      );
      ctx.facts.invalidate([fact.key]);
    },
    ok: (have) => (have.exists ? `uid ${have.uid}` : "absent"),
  });
}

export function userDiff(want: UserWant, have: UserState): Change[] {
  const { state: _s, ...wanted } = want;
  const { exists: _e, ...current } = have;
  if (want.state === "absent")
    return have.exists ? [valueChange("state", `remove user ${want.name}`, { name: want.name, ...current }, null)] : [];
  if (!have.exists) return [valueChange("state", `create user ${want.name}`, null, defined(wanted))];
  const out: Change[] = [];
  if (want.uid !== undefined && want.uid !== have.uid)
    out.push(valueChange("uid", `uid ${have.uid} -> ${want.uid}`, have.uid, want.uid));
  if (want.shell && want.shell !== have.shell)
    out.push(valueChange("shell", `shell ${have.shell} -> ${want.shell}`, have.shell, want.shell));
  if (want.home && want.home !== have.home)
    out.push(valueChange("home", `home ${have.home} -> ${want.home}`, have.home, want.home));
  const wantGroups = want.groups ? [...want.groups].sort() : undefined;
  if (wantGroups && wantGroups.join(",") !== have.groups.join(","))
    out.push(
      valueChange("groups", `groups [${have.groups.join(",")}] -> [${wantGroups.join(",")}]`, have.groups, wantGroups),
    );
  return out;
}

export const GroupWant = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    gid: Type.Optional(Type.Integer({ minimum: 0 })),
    system: Type.Optional(Type.Boolean()),
    state: Type.Optional(oneOf(["present", "absent"])),
  },
  closed,
);
export type GroupWant = Static<typeof GroupWant>;

export interface GroupState {
  exists: boolean;
  gid?: number;
}

export function groupFact(name: string): Fact<GroupState> {
  return {
    key: `group:${name}`,
    command: sh`getent group ${name}`,
    parse: (out, code) => (code === 0 ? { exists: true, gid: Number(out.split(":")[2]) } : { exists: false }),
  };
}

export function group(want: GroupWant, opts: ResourceOptions = {}): Resource<GroupWant, GroupState> {
  checkOptions("group", GroupWant, want, opts);
  checkName("group", want.name);
  const fact = groupFact(want.name);
  return withFact(fact, {
    id: `group:${want.name}`,
    want,
    ...opts,
    diff: groupDiff,
    async apply(ctx, _changes, have) {
      const gid = want.gid !== undefined ? ["-g", String(want.gid)] : [];
      const cmd =
        want.state === "absent"
          ? sh`groupdel ${want.name}`
          : have.exists
            ? sh`groupmod ${gid} ${want.name}`
            : sh`groupadd ${want.system ? ["-r"] : []} ${gid} ${want.name}`;
      await run(ctx, cmd, `group ${want.name}`);
      ctx.facts.invalidate([fact.key]);
    },
    ok: (have) => (have.exists ? `gid ${have.gid}` : "absent"),
  });
}

export function groupDiff(want: GroupWant, have: GroupState): Change[] {
  const { state: _s, ...wanted } = want;
  if (want.state === "absent")
    return have.exists
      ? [valueChange("state", `remove group ${want.name}`, { name: want.name, gid: have.gid }, null)]
      : [];
  if (!have.exists) return [valueChange("state", `create group ${want.name}`, null, defined(wanted))];
  if (want.gid !== undefined && want.gid !== have.gid)
    return [valueChange("gid", `gid ${have.gid} -> ${want.gid}`, have.gid, want.gid)];
  return [];
}
