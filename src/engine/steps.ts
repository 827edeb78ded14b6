// Expand a playbook into per-host steps BEFORE any host is contacted: role vars
// are validated here, so a run that fails validation changes nothing anywhere.
import { Ajv } from "ajv";
import type { Inventory } from "../inventory/inventory.ts";
import { matchHosts } from "../inventory/patterns.ts";
import { badInput, LabError } from "../errors.ts";
import { isSecret } from "../secrets/secret.ts";
import type { Playbook, RoleTools } from "./playbook.ts";
import { throwSite } from "./throw-site.ts";
import type { Handler, Resource } from "./types.ts";

export interface Step {
  resource: Resource;
  role: string;
  tags: readonly string[];
}

export interface HostPlan {
  host: string;
  steps: Step[];
  handlers: Map<string, Handler>;
}

export interface PlayPlan {
  name: string;
  hosts: HostPlan[];
}

export interface Selection {
  limit?: string;
  tags?: string[];
  skipTags?: string[];
}

const ajv = new Ajv({ allErrors: false, strict: false, useDefaults: false });
const validators = new WeakMap<object, ReturnType<typeof ajv.compile>>();

export function expandPlaybook(pb: Playbook, file: string, inv: Inventory, sel: Selection, tools: RoleTools): PlayPlan[] {
  const limited = sel.limit ? new Set(matchHosts(inv, sel.limit)) : undefined;
  return pb.plays.map((play) => {
    const names = matchHosts(inv, play.hosts, `play "${play.name}" hosts`).filter((h) => !limited || limited.has(h));
    return { name: play.name, hosts: names.map((name) => expandHost(play, name)) };
  });

  function expandHost(play: Playbook["plays"][number], name: string): HostPlan {
    const host = inv.hosts.get(name)!;
    const steps: Step[] = [];
    const handlers = new Map<string, Handler>();
    let uses;
    try {
      uses = play.roles(host);
    } catch (e) {
      throw rethrow(e, `play "${play.name}" failed while listing roles for host ${name}`);
    }
    for (const use of uses) {
      let validate = validators.get(use.schema);
      if (!validate) validators.set(use.schema, (validate = ajv.compile(use.schema)));
      // Secrets are objects at run time; the schema sees them as the strings they stand for.
      const vars = structuredVars(use.vars);
      if (!validate(vars)) {
        const err = validate.errors?.[0];
        throw badInput(`role ${use.role}: vars${err?.instancePath || ""} ${err?.message ?? "are invalid"}${err?.params && "additionalProperty" in err.params ? ` (${String(err.params.additionalProperty)})` : ""}`,
          { file, host: name }, `fix the vars given to role ${use.role} in play "${play.name}"`);
      }
      let out;
      try {
        out = use.expand(use.vars, host, tools);
      } catch (e) {
        throw rethrow(e, `role ${use.role} failed for host ${name}`);
      }
      for (const h of out.handlers ?? []) handlers.set(h.id, h);
      for (const resource of out.resources) {
        const tags = [...(play.tags ?? []), ...use.tags, ...(resource.tags ?? [])];
        if (selected(tags, sel)) steps.push({ resource, role: use.role, tags });
      }
    }
    const seen = new Map<string, string>();
    for (const s of steps) {
      const prev = seen.get(s.resource.id);
      if (prev) throw badInput(`host ${name}: resource ${s.resource.id} is declared twice (roles ${prev} and ${s.role})`, { file, host: name }, "declare each resource once; two owners would fight on every run");
      seen.set(s.resource.id, s.role);
      for (const n of s.resource.notify ?? []) {
        if (!handlers.has(n)) throw badInput(`host ${name}: ${s.resource.id} notifies unknown handler "${n}"`, { file, host: name }, `known handlers: ${[...handlers.keys()].join(", ") || "(none)"}`);
      }
    }
    return { host: name, steps: mergeSteps(steps), handlers };
  }

  function rethrow(e: unknown, what: string): LabError {
    const at = throwSite(e, tools.root) ?? { file };
    if (e instanceof LabError) return new LabError(`${what}: ${e.message}`, e.code, { ...at, ...e.where }, e.hint);
    return badInput(`${what}: ${e instanceof Error ? e.message : String(e)}`, at, "fix the playbook or role (run with -v for the stack trace)");
  }
}

function structuredVars(v: unknown): unknown {
  if (isSecret(v)) return v.toString();
  if (Array.isArray(v)) return v.map(structuredVars);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, structuredVars(x)]));
  return v;
}

function selected(tags: readonly string[], sel: Selection): boolean {
  if (sel.skipTags?.some((t) => tags.includes(t))) return false;
  if (sel.tags?.length && !sel.tags.some((t) => tags.includes(t) || t === "all")) return false;
  return true;
}

/** Adjacent resources that can merge (e.g. apt packages) become one step. */
function mergeSteps(steps: Step[]): Step[] {
  const out: Step[] = [];
  for (const s of steps) {
    const prev = out[out.length - 1];
    const merged = prev?.resource.merge?.(s.resource);
    if (prev && merged) out[out.length - 1] = { ...prev, role: prev.role === s.role ? prev.role : `${prev.role}+${s.role}`, resource: merged };
    else out.push(s);
  }
  return out;
}
