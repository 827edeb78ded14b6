// Layers point one way: the engine (src/engine) imports nothing from resources/
// or proxmox/ (the guest resolver and API clients are passed in), the Proxmox
// client (src/proxmox/*.ts) and the inventory import nothing from the engine
// but its leaf types. Every import statement (static, dynamic, re-export) is scanned.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../../src");

function files(dir: string, recursive = true): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (recursive ? files(join(dir, e.name)) : []) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Every module a file imports, as a path relative to src/ (bare packages as they are). */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [
    ...text.matchAll(
      /^\s*(?:import|export)\b[^"'`;]*?\bfrom\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm,
    ),
  ].map((m) => m[1] ?? m[2] ?? m[3]!);
  return specs.map((s) => (s.startsWith(".") ? relative(SRC, resolve(dirname(file), s)) : s));
}

const forbidden = (dir: string, banned: string[], opts: { recursive?: boolean; allow?: string[] } = {}) =>
  files(join(SRC, dir), opts.recursive ?? true).flatMap((f) =>
    importsOf(f)
      .filter((i) => banned.some((b) => i.startsWith(b)) && !(opts.allow ?? []).includes(i))
      .map((i) => `${relative(SRC, f)} imports ${i}`),
  );

describe("layers", () => {
  it("the scanner sees static, type-only, re-export and dynamic imports", () => {
    const probe = join(SRC, "engine", "runner.ts");
    expect(importsOf(probe)).toContain("engine/context.ts");
    expect(importsOf(join(SRC, "engine", "types.ts"))).toContain("log.ts");
    expect(importsOf(join(SRC, "cli", "run-command.ts"))).toContain("proxmox/resources/guest.ts");
  });

  it("src/engine imports nothing from src/resources or src/proxmox", () => {
    expect(forbidden("engine", ["resources/", "proxmox/"])).toEqual([]);
  });

  it("the Proxmox client does not import the engine", () => {
    expect(forbidden("proxmox", ["engine/"], { recursive: false })).toEqual([]);
  });

  it("the inventory model imports neither resources nor proxmox, and of the engine only its types", () => {
    expect(forbidden("inventory", ["resources/", "proxmox/"])).toEqual([]);
    expect(forbidden("inventory", ["engine/"], { allow: ["engine/types.ts"] })).toEqual([]);
  });
});
