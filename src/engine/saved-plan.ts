// Saved plans (docs/adr/0022-saved-plans.md): what `lab plan -o FILE` writes and what
// `lab apply FILE` checks before it touches anything. A plan records, per step, a salted
// digest of the state read() returned and the changes diff() computed. diff() is pure, so
// the same sources and the same read state give the same changes: applying after a re-read
// that matches every digest applies exactly the saved changes. Secrets appear only as
// references (a Secret serializes as «secret:NAME»), never as values.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { ExitCode, LabError, badInput } from "../errors.ts";
import { redact } from "../secrets/secret.ts";
import type { Prepared, RunResult } from "./runner.ts";
import type { StepResult } from "./results.ts";
import type { Resource } from "./types.ts";

export const PLAN_FORMAT_VERSION = 1;

export interface SavedStep {
  play: string;
  host: string;
  id: string;
  status: StepResult["status"];
  /** sha256 of salt + the read state; absent when the step was not read (known after apply, skipped). */
  read?: string;
  changes: { key: string; summary: string; diff?: string }[];
}

export interface SavedPlan {
  format_version: number;
  kind: "lab-plan";
  lab_version: string;
  created_at: string;
  /** Relative to the project root. */
  playbook: string;
  selection: { limit?: string; tags: string[]; skipTags: string[]; extraVars: Record<string, unknown> };
  /** sha256 per project file the plan was made from (inventory, playbooks, roles, templates, policy, config, secrets). */
  sources: Record<string, string>;
  salt: string;
  steps: SavedStep[];
}

/** The digests read() produced in a run, per wrapped step. */
export class ReadRecorder {
  readonly #digests = new Map<Resource, string>();
  constructor(readonly salt: string = randomBytes(16).toString("hex")) {}

  /**
   * A copy of the prepared plays whose resources record a digest of what they read. The
   * wrapper inherits everything else from the resource, so the engine runs it unchanged.
   */
  wrap(prepared: Prepared): Prepared {
    const plays = prepared.plays.map((p) => ({
      ...p,
      hosts: p.hosts.map((h) => ({
        ...h,
        steps: h.steps.map((s) => {
          const r = s.resource;
          const w = Object.create(r) as Resource;
          Object.defineProperty(w, "read", {
            value: async (ctx: Parameters<Resource["read"]>[0]) => {
              const have = await r.read(ctx);
              this.#digests.set(w, digest(this.salt, have));
              return have;
            },
          });
          return { ...s, resource: w };
        }),
      })),
    }));
    return { ...prepared, plays };
  }

  /** The run's steps with the digest of each one's read state (results are grouped per play and host, in step order). */
  steps(wrapped: Prepared, result: RunResult): SavedStep[] {
    const byHost = new Map<string, StepResult[]>();
    for (const r of result.results)
      if (r.role !== "handler") byHost.set(`${r.play}\n${r.host}`, [...(byHost.get(`${r.play}\n${r.host}`) ?? []), r]);
    const out: SavedStep[] = [];
    for (const play of wrapped.plays)
      for (const hp of play.hosts) {
        const results = byHost.get(`${play.name}\n${hp.host}`) ?? [];
        for (const step of hp.steps) {
          const r = results.shift();
          if (!r) break; // the play did not run on this host (an earlier play stopped it)
          const read = this.#digests.get(step.resource);
          out.push({
            play: r.play,
            host: r.host,
            id: r.id,
            status: r.status,
            ...(read && r.changes[0]?.key !== "known-after-apply" ? { read } : {}),
            changes: r.changes.map((c) => ({ key: c.key, summary: c.summary, ...(c.diff ? { diff: c.diff } : {}) })),
          });
        }
      }
    return out;
  }
}

/** A stable digest of any read state: keys sorted, Maps/Sets/Buffers spelled out, Secrets as their references. */
export function digest(salt: string, value: unknown): string {
  return `sha256:${createHash("sha256").update(salt).update(stable(value)).digest("hex")}`;
}

function stable(v: unknown): string {
  if (v === undefined) return "undefined";
  if (typeof v === "bigint" || typeof v === "symbol" || typeof v === "function") return `${typeof v}:${v.toString()}`;
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Buffer.isBuffer(v)) return `buffer:${v.toString("base64")}`;
  if (v instanceof Map) return `map{${[...v.entries()].map(([k, x]) => `${stable(k)}:${stable(x)}`).join(",")}}`;
  if (v instanceof Set) return `set[${[...v].map(stable).join(",")}]`;
  if (Array.isArray(v)) return `[${v.map(stable).join(",")}]`;
  if ("toJSON" in v && typeof v.toJSON === "function") return stable((v.toJSON as () => unknown)());
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stable(o[k])}`)
    .join(",")}}`;
}

/** What the plan depends on besides the hosts: every project file that shapes the wanted state. */
export function sourceDigests(root: string, files: readonly (string | undefined)[]): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort())
        if (e !== "node_modules" && e !== ".git" && e !== ".lab" && e !== "reports") add(join(p, e));
    } else if (st.isFile()) out[relative(root, p)] = createHash("sha256").update(readFileSync(p)).digest("hex");
  };
  for (const f of files) if (f && existsSync(f)) add(f);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

export function planJson(plan: SavedPlan): string {
  return `${redact(JSON.stringify(plan, null, 2))}\n`;
}

/** A plan file read back: exit 2 for what is not one (or a format this lab does not read). */
export function parsePlan(file: string, text: string): SavedPlan {
  let p: Partial<SavedPlan>;
  try {
    p = JSON.parse(text) as Partial<SavedPlan>;
  } catch (e) {
    throw badInput(`${file} is not a saved plan: ${(e as Error).message}`, { file }, "make one with lab plan -o FILE");
  }
  if (p.kind !== "lab-plan" || !Array.isArray(p.steps) || typeof p.sources !== "object" || !p.selection)
    throw badInput(`${file} is not a saved plan (no kind: lab-plan)`, { file }, "make one with lab plan -o FILE");
  if (p.format_version !== PLAN_FORMAT_VERSION)
    throw badInput(
      `${file}: plan format_version ${String(p.format_version)} is not supported (this lab reads ${PLAN_FORMAT_VERSION})`,
      { file },
      "make the plan again with this lab: lab plan -o FILE",
    );
  return p as SavedPlan;
}

/** Refuses (exit 11) a plan made from other project files than those on disk now. */
export function checkSources(file: string, plan: SavedPlan, now: Record<string, string>): void {
  const names = [...new Set([...Object.keys(plan.sources), ...Object.keys(now)])].sort();
  const changed = names.filter((n) => plan.sources[n] !== now[n]);
  if (changed.length === 0) return;
  const what = changed.map((n) => `${n} (${!plan.sources[n] ? "new" : !now[n] ? "removed" : "changed"})`);
  throw new LabError(
    `the saved plan is stale: made from another version of the project: ${what.slice(0, 5).join(", ")}${what.length > 5 ? `, and ${what.length - 5} more` : ""}`,
    ExitCode.planStale,
    { file },
    "nothing was changed; make a new plan (lab plan -o FILE) and review it",
  );
}

/** The steps whose current state or changes differ from the saved plan's: the drift, by host. */
export function driftOf(
  saved: readonly SavedStep[],
  now: readonly SavedStep[],
): { host: string; id: string; why: string }[] {
  const key = (s: SavedStep, i: number) => `${s.play}\n${s.host}\n${i}`;
  const index = (steps: readonly SavedStep[]) => {
    const seen = new Map<string, number>();
    return new Map(
      steps.map((s) => {
        const n = seen.get(`${s.play}\n${s.host}`) ?? 0;
        seen.set(`${s.play}\n${s.host}`, n + 1);
        return [key(s, n), s] as const;
      }),
    );
  };
  const a = index(saved);
  const b = index(now);
  const out: { host: string; id: string; why: string }[] = [];
  for (const [k, s] of a) {
    const t = b.get(k);
    if (!t || t.id !== s.id) out.push({ host: s.host, id: s.id, why: "the step is no longer in the run" });
    else if (t.status !== s.status) out.push({ host: s.host, id: s.id, why: `was ${s.status}, now ${t.status}` });
    else if (t.read !== s.read)
      out.push({ host: s.host, id: s.id, why: "its current state differs from what the plan read" });
    else if (JSON.stringify(t.changes) !== JSON.stringify(s.changes))
      out.push({ host: s.host, id: s.id, why: "its changes differ from the plan's" });
  }
  for (const [k, t] of b) if (!a.has(k)) out.push({ host: t.host, id: t.id, why: "a step the plan did not have" });
  return out;
}

/** `file` undefined: the plan just shown on the terminal. */
export function driftError(
  file: string | undefined,
  drift: readonly { host: string; id: string; why: string }[],
): LabError {
  const hosts = [...new Set(drift.map((d) => d.host))];
  return new LabError(
    `${hosts.length} host(s) drifted since the plan was made (${hosts.join(", ")}); nothing was changed on any host:\n${drift
      .map((d) => `  ${d.host}: ${d.id}: ${d.why}`)
      .join("\n")}`,
    ExitCode.planStale,
    file ? { file } : {},
    file
      ? "review what changed on the host, then make a new plan (lab plan -o FILE)"
      : "review what changed, then run lab apply again",
  );
}
