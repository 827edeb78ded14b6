// Expand a playbook into per-host steps BEFORE any host is contacted: declared
// host vars, role vars and resource options are validated here, so a run that
// fails validation changes nothing anywhere.
import { Ajv } from "ajv";
import type { TObject } from "@sinclair/typebox";
import type { Inventory, VarSite } from "../inventory/inventory.ts";
import { matchHosts } from "../inventory/patterns.ts";
import { badInput, LabError } from "../errors.ts";
import type { Playbook, RoleTools, RoleUse } from "./playbook.ts";
import { throwSite } from "./throw-site.ts";
import type { Handler, HostInfo, Resource } from "./types.ts";
import { didYouMean, firstProblem, formatPath } from "./validation.ts";

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

export function expandPlaybook(
  pb: Playbook,
  file: string,
  inv: Inventory,
  sel: Selection,
  tools: RoleTools,
): PlayPlan[] {
  const limited = sel.limit ? new Set(matchHosts(inv, sel.limit)) : undefined;
  const typed = pb.vars ? typedHosts(pb.vars, inv) : inv.hosts;
  // Every tag a step of the selected hosts has: a --tags/--skip-tags naming another is a typo, not "nothing to do".
  const known = new Set<string>(["all"]);
  const plays = pb.plays.map((play) => {
    const names = matchHosts(inv, play.hosts, `play "${play.name}" hosts`).filter((h) => !limited || limited.has(h));
    return { name: play.name, hosts: names.map((name) => expandHost(play, name)) };
  });
  for (const [flag, tags] of [
    ["--tags", sel.tags],
    ["--skip-tags", sel.skipTags],
  ] as const) {
    const unknown = (tags ?? []).filter((t) => !known.has(t));
    if (unknown.length && plays.some((p) => p.hosts.length)) {
      throw badInput(
        `${flag}: no step has the tag${unknown.length > 1 ? "s" : ""} ${unknown.map((t) => `"${t}"`).join(", ")}${sel.limit ? ` (on the hosts of --limit ${sel.limit})` : ""}`,
        { file },
        `known tags: ${
          [...known]
            .filter((t) => t !== "all")
            .sort()
            .join(", ") || "(none)"
        }`,
      );
    }
  }
  return plays;

  function expandHost(play: Playbook["plays"][number], name: string): HostPlan {
    const host = typed.get(name)!;
    const steps: Step[] = [];
    const handlers = new Map<string, Handler>();
    let uses;
    try {
      uses = play.roles(host);
    } catch (e) {
      throw rethrow(e, `play "${play.name}" failed while listing roles for host ${name}`);
    }
    for (const use of uses) {
      checkRoleVars(use, host, inv, play.name, file);
      let out;
      try {
        out = use.expand(use.vars, host, tools);
      } catch (e) {
        throw rethrow(e, `role ${use.role} failed for host ${name}`);
      }
      for (const h of out.handlers ?? []) handlers.set(h.id, h);
      for (const resource of out.resources) {
        const tags = [...(play.tags ?? []), ...use.tags, ...(resource.tags ?? [])];
        for (const t of tags) known.add(t);
        if (selected(tags, sel)) steps.push({ resource, role: use.role, tags });
      }
    }
    const seen = new Map<string, string>();
    for (const s of steps) {
      const prev = seen.get(s.resource.id);
      if (prev)
        throw badInput(
          `host ${name}: resource ${s.resource.id} is declared twice (roles ${prev} and ${s.role})`,
          { file, host: name },
          "declare each resource once; two owners would fight on every run",
        );
      seen.set(s.resource.id, s.role);
      for (const n of s.resource.notify ?? []) {
        if (!handlers.has(n))
          throw badInput(
            `host ${name}: ${s.resource.id} notifies unknown handler "${n}"`,
            { file, host: name },
            `known handlers: ${[...handlers.keys()].join(", ") || "(none)"}`,
          );
      }
    }
    return { host: name, steps: mergeSteps(steps), handlers };
  }

  function rethrow(e: unknown, what: string): LabError {
    const at = throwSite(e, tools.root) ?? { file };
    if (e instanceof LabError) return new LabError(`${what}: ${e.message}`, e.code, { ...at, ...e.where }, e.hint);
    return badInput(
      `${what}: ${e instanceof Error ? e.message : String(e)}`,
      at,
      "fix the playbook or role (run with -v for the stack trace)",
    );
  }
}

/** Role vars against the role's schema; the error points at the YAML of a var passed through, else at the playbook's call. */
function checkRoleVars(use: RoleUse, host: HostInfo, inv: Inventory, play: string, file: string): void {
  const p = firstProblem(use.schema, use.vars, "var");
  if (!p) return;
  const top = p.path[0];
  const value =
    typeof top === "string" && use.vars && typeof use.vars === "object"
      ? (use.vars as Record<string, unknown>)[top]
      : undefined;
  // A value taken from host vars (same object, or the same name and value) is best fixed where the YAML says it.
  const fromVar =
    value === undefined
      ? undefined
      : Object.keys(host.vars).find((k) => host.vars[k] === value && (typeof value === "object" || k === top));
  const site = fromVar ? inv.varSite(host.name, fromVar) : undefined;
  const where = site?.where ?? use.at ?? { file };
  throw badInput(
    `role ${use.role}: ${formatPath("vars", p.path)}: ${p.what}`,
    { ...where, host: host.name },
    site?.where
      ? `host var ${fromVar} is passed to role ${use.role} in play "${play}"${use.at ? ` (${use.at.file}:${use.at.line})` : ""}`
      : `fix the vars given to role ${use.role} in play "${play}"`,
  );
}

// --extra-vars key=value arrive as strings: coerced to the declared type ("false" -> false, "3" -> 3).
const coercing = new Ajv({ strict: false, coerceTypes: true, useDefaults: true });
const defaults = new Ajv({ strict: false, useDefaults: true });

/** Every var site checked against the declared host vars (undeclared name, wrong type), then each host's vars with defaults. */
function typedHosts(schema: TObject, inv: Inventory): ReadonlyMap<string, HostInfo> {
  const declared = Object.keys(schema.properties);
  const coerced = new Map<string, unknown>();
  for (const site of inv.varSites()) {
    const label = siteLabel(site);
    const prop = schema.properties[site.key];
    if (!prop) {
      throw badInput(
        `${label}: host var "${site.key}" is not declared${didYouMean(site.key, declared)}`,
        site.where ?? {},
        `declared host vars: ${declared.join(", ")}; declare it with defineHostVars or fix the name`,
      );
    }
    let problem = firstProblem(prop, site.value);
    if (problem && site.scope === "extra" && typeof site.value === "string") {
      const box = { v: site.value };
      if (coercing.validate({ type: "object", properties: { v: prop } }, box)) {
        coerced.set(site.key, box.v);
        problem = undefined;
      }
    }
    if (problem)
      throw badInput(
        `${formatPath(label, problem.path)}: ${problem.what}`,
        site.where ?? {},
        prop.description ? `${site.key}: ${String(prop.description)}` : `see the declared host vars (defineHostVars)`,
      );
  }
  const validate = defaults.compile(schema);
  const out = new Map<string, HostInfo>();
  for (const [name, host] of inv.hosts) {
    const vars: Record<string, unknown> = { ...host.vars, ...Object.fromEntries(coerced) };
    if (!validate(vars)) {
      const p = firstProblem(schema, vars);
      throw badInput(
        `host ${name}: ${formatPath("vars", p?.path ?? [])}: ${p?.what ?? "invalid"}`,
        inv.where(["hosts", name]) ?? {},
        "set it for the host (or a group), or give it a default in the declaration",
      );
    }
    out.set(name, { ...host, vars });
  }
  return out;
}

const siteLabel = (s: VarSite): string =>
  s.scope === "all"
    ? `vars.${s.key}`
    : s.scope === "extra"
      ? `--extra-vars ${s.key}`
      : `${s.scope}s.${s.owner}.vars.${s.key}`;

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
    if (prev && merged)
      out[out.length - 1] = {
        ...prev,
        role: prev.role === s.role ? prev.role : `${prev.role}+${s.role}`,
        resource: merged,
      };
    else out.push(s);
  }
  return out;
}
