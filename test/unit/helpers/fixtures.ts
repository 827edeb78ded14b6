// Data-driven fixtures: test/fixtures/<area>/<folder>/<case>.json.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Secret } from "../../../src/secrets/secret.ts";

export const FIXTURES = join(import.meta.dirname, "..", "..", "fixtures");

/** The sub-folders of a fixture area (sorted). */
export const folders = (area: string): string[] =>
  readdirSync(join(FIXTURES, area), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();

/** The cases of one folder: [case name, parsed JSON] (sorted by name). */
export function cases<T = Record<string, unknown>>(area: string, folder: string): [string, T][] {
  const dir = join(FIXTURES, area, folder);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort();
  if (files.length === 0) throw new Error(`no fixtures in ${dir}`);
  return files.map((f) => [f.replace(/\.json$/, ""), revive(JSON.parse(readFileSync(join(dir, f), "utf8"))) as T]);
}

/** `{"$secret": {"name": n, "value": v}}` becomes a Secret; everything else is kept. */
export function revive(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const s = o.$secret as { name?: string; value?: string } | undefined;
    if (s && typeof s.name === "string" && typeof s.value === "string") return new Secret(s.name, s.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, revive(x)]));
  }
  return v;
}

/** Every secret value reachable from a value (to prove none leaks into output). */
export function secretValues(v: unknown): string[] {
  if (v instanceof Secret) return [v.reveal()];
  if (Array.isArray(v)) return v.flatMap(secretValues);
  if (v && typeof v === "object") return Object.values(v).flatMap(secretValues);
  return [];
}
