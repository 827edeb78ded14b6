// Typed playbooks and roles. A role is a function from typed vars to resources;
// its vars are checked by TypeScript (`lab check`) and again at run time by a
// JSON Schema (inventory data is untyped YAML).
import type { JSONSchemaType } from "ajv";
import type { Renderer } from "../resources/template.ts";
import type { Secret } from "../secrets/secret.ts";
import type { Handler, HostInfo, Resource } from "./types.ts";

/** What a role may use besides its vars: the host and the project's templates. */
export interface RoleTools {
  /** Render templates/<file> (nunjucks) with vars. */
  template: Renderer;
  /** Project root. */
  root: string;
  /** A secret from the project's secrets.age, by name (redacted everywhere). */
  secret(name: string): Secret;
  /** The inventory's lab sections (proxmox, vlans, templates, vms), validated and cross-checked. */
  sections: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
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
  readonly schema: object;
  expand(vars: unknown, host: HostInfo, tools: RoleTools): RoleOutput;
}

export interface RoleDefinition<V> {
  /** Role name: also an implicit tag. */
  name: string;
  /** JSON Schema for the vars; TypeScript checks it matches V. */
  schema: JSONSchemaType<V>;
  /** Vars -> resources (and handlers) for one host. Pure: no I/O here. */
  resources(vars: V, host: HostInfo, tools: RoleTools): Resource[] | RoleOutput;
}

export type Role<V> = (vars: V, options?: { tags?: string[] }) => RoleUse;

export function defineRole<V>(def: RoleDefinition<V>): Role<V> {
  return (vars, options) => ({
    role: def.name,
    vars,
    tags: [def.name, ...(options?.tags ?? [])],
    schema: def.schema,
    expand: (validVars, host, tools) => {
      const out = def.resources(validVars as V, host, tools);
      return Array.isArray(out) ? { resources: out } : out;
    },
  });
}

/** Resources listed directly in a play, without a role. */
export function inline(resources: Resource[], options?: { tags?: string[]; handlers?: Handler[] }): RoleUse {
  return {
    role: "inline",
    vars: {},
    tags: options?.tags ?? [],
    schema: {},
    expand: () => ({ resources, handlers: options?.handlers ?? [] }),
  };
}

export interface Play {
  /** Shown in progress and recap. */
  name: string;
  /** Host pattern: names, groups, globs, `a:b`, `a:&b`, `a:!b` (Ansible syntax). */
  hosts: string;
  tags?: string[];
  /** Roles for one host, in order. */
  roles(host: HostInfo): RoleUse[];
}

export interface Playbook {
  name: string;
  plays: Play[];
}

export function definePlaybook(playbook: Playbook): Playbook {
  return playbook;
}
