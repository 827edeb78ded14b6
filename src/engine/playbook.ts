// Typed playbooks and roles. A role's vars are declared ONCE, as a TypeBox schema:
// it is the TypeScript type (checked by `lab check`) and the JSON Schema the vars
// are validated against at run time (inventory data is untyped YAML). A playbook
// may declare the project's host vars the same way (defineHostVars): they are
// checked in the inventory and `host.vars` is typed in its plays.
import { Type, type Static, type TObject, type TProperties, type TSchema } from "@sinclair/typebox";
import type { BackupPolicy } from "../backup/policy.ts";
import type { LabModel } from "../inventory/model.ts";
import type { Secret } from "../secrets/secret.ts";
import { badInput } from "../errors.ts";
import { callSite, type Position } from "./call-site.ts";
import type { Handler, HostInfo, Renderer, Resource } from "./types.ts";

/** What a role may use besides its vars: the host and the project's templates. */
export interface RoleTools {
  /** Render templates/<file> (nunjucks) with vars. */
  template: Renderer;
  /** Project root. */
  root: string;
  /** A secret from the project's secrets.age, by name (redacted everywhere). */
  secret(name: string): Secret;
  /** The inventory's lab sections (proxmox, vlans, templates, vms), typed, validated and cross-checked. */
  lab: LabModel;
  /** backups/policy.yaml, validated against the inventory (empty when the project has none). */
  backups: BackupPolicy;
  /** A VM's SSH public keys (`.pub` files were read when the inventory was loaded). */
  vmKeys(vm: string): string[];
  /** Hosts by name (for roles that configure one host from facts about others). */
  hosts: ReadonlyMap<string, HostInfo>;
}

/** What a role produces for one host. */
export interface RoleOutput {
  resources: Resource[];
  handlers?: Handler[];
}

/** A role applied with vars; expanded per host by the engine. */
export interface RoleUse {
  readonly role: string;
  readonly vars: unknown;
  readonly tags: readonly string[];
  readonly schema: TSchema;
  /** The playbook line that called the role (for errors). */
  readonly at?: Position;
  expand(vars: unknown, host: HostInfo, tools: RoleTools): RoleOutput;
}

export interface RoleDefinition<S extends TSchema> {
  /** Role name: also an implicit tag. */
  name: string;
  /** The vars, declared once: `Type.Object({ port: Type.Integer({ minimum: 1 }) })`. */
  vars: S;
  /** Vars -> resources (and handlers) for one host. Pure: no I/O here. */
  resources(vars: Static<S>, host: HostInfo, tools: RoleTools): Resource[] | RoleOutput;
}

/** A role: call it with vars to use it in a play; `roleName` and `varsSchema` describe it (docs/reference/roles.md). */
export type Role<V> = ((vars: V, options?: { tags?: string[] }) => RoleUse) & {
  readonly roleName: string;
  readonly varsSchema: TSchema;
};

export function defineRole<S extends TSchema>(def: RoleDefinition<S>): Role<Static<S>> {
  // A playbook run without `lab check` (plain JS, an old `schema:` key) reaches here untyped.
  if (typeof def.vars !== "object" || def.vars === null) {
    throw badInput(
      `role ${JSON.stringify(def.name)}: no vars schema`,
      callSite() ?? {},
      "declare the role's vars once: defineRole({ name, vars: Type.Object({ ... }), resources })",
    );
  }
  const use = (vars: Static<S>, options?: { tags?: string[] }): RoleUse => {
    const at = callSite();
    return {
      role: def.name,
      vars,
      tags: [def.name, ...(options?.tags ?? [])],
      schema: def.vars,
      ...(at ? { at } : {}),
      expand: (validVars, host, tools) => {
        const out = def.resources(validVars, host, tools);
        return Array.isArray(out) ? { resources: out } : out;
      },
    };
  };
  return Object.assign(use, { roleName: def.name, varsSchema: def.vars });
}

/** A project's host vars: name -> TypeBox schema (with `default` and `description`). Undeclared vars are an error. */
export const defineHostVars = <P extends TProperties>(vars: P): TObject<P> =>
  Type.Object(vars, { additionalProperties: false });

/** Resources listed directly in a play, without a role. */
export function inline(resources: Resource[], options?: { tags?: string[]; handlers?: Handler[] }): RoleUse {
  return {
    role: "inline",
    vars: {},
    tags: options?.tags ?? [],
    schema: Type.Object({}),
    expand: () => ({ resources, handlers: options?.handlers ?? [] }),
  };
}

export interface Play<V = HostInfo["vars"]> {
  /** Shown in progress and recap. */
  name: string;
  /** Host pattern: names, groups, globs, `a:b`, `a:&b`, `a:!b` (Ansible syntax). */
  hosts: string;
  tags?: string[];
  /** Roles for one host, in order. */
  roles(host: HostInfo<V>): RoleUse[];
}

export interface Playbook<V = HostInfo["vars"]> {
  name: string;
  /** The project's declared host vars (defineHostVars): checked in the inventory, typed in `host.vars`. */
  vars?: TObject;
  plays: Play<V>[];
}

export function definePlaybook<S extends TObject>(playbook: {
  name: string;
  vars: S;
  plays: Play<Static<S>>[];
}): Playbook;
export function definePlaybook(playbook: Playbook): Playbook;
export function definePlaybook(playbook: Playbook): Playbook {
  return playbook;
}
