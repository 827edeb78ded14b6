// lab's own code as JavaScript: src/**/*.ts -> dist/**/*.js (one file per module, same
// layout and depth, so paths relative to the repository and import.meta.url keep working;
// linked source maps point stack traces back at src/). bin/lab.mjs runs dist/ when it is
// fresh, else src/ through tsx: a stale build is slow, never wrong.
//
//   node bin/build.mjs             build (npm run build; npm ci / npm install run it as `prepare`)
//   node bin/build.mjs --if-stale  build only when dist/ is missing or older than src/
import { cpSync, existsSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SRC = join(ROOT, "src");
export const DIST = join(ROOT, "dist");
// Written last, dated when the build started: a source saved during the build counts as newer.
const STAMP = join(DIST, ".built");
// What the build reads besides src/: changing these makes every output stale.
const INPUTS = [fileURLToPath(import.meta.url), join(ROOT, "tsconfig.json")];

/** Newest modification time (ms) of src/ and the build's inputs (a few ms for ~200 files). */
function newestSource() {
  let newest = 0;
  for (const f of INPUTS) newest = Math.max(newest, statSync(f).mtimeMs);
  for (const e of readdirSync(SRC, { recursive: true, withFileTypes: true })) {
    // A new or renamed file changes its folder's mtime too: folders count.
    newest = Math.max(newest, statSync(join(e.parentPath ?? e.path, e.name)).mtimeMs);
  }
  return Math.max(newest, statSync(SRC).mtimeMs);
}

/** dist/ exists and is at least as new as every source (a copy of lab without its sources: the build). */
export function fresh() {
  let built;
  try {
    built = statSync(STAMP).mtimeMs;
  } catch {
    return false;
  }
  try {
    return built >= newestSource();
  } catch {
    return true;
  }
}

export async function build() {
  const started = new Date();
  const { build: esbuild } = await import("esbuild");
  const entries = readdirSync(SRC, { recursive: true })
    .filter((f) => typeof f === "string" && f.endsWith(".ts"))
    .map((f) => join(SRC, f));
  // Built beside dist/ and swapped in: a lab starting meanwhile sees the old build or none (then src/).
  const next = `${DIST}.${process.pid}.new`;
  rmSync(next, { recursive: true, force: true });
  await esbuild({
    entryPoints: entries,
    outdir: next,
    outbase: SRC,
    // bundle + every import external = one output per module with its imports rewritten (.ts -> .js).
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "linked",
    sourcesContent: false,
    logLevel: "warning",
    plugins: [
      {
        name: "lab-modules",
        setup(b) {
          b.onResolve({ filter: /.*/ }, (a) =>
            a.kind === "entry-point"
              ? undefined
              : { path: a.path.replace(/^(\.{1,2}\/.*)\.ts$/, "$1.js"), external: true },
          );
        },
      },
    ],
  });
  // Data files beside the code (the Proxmox API schemas) are read through import.meta.url.
  for (const f of readdirSync(SRC, { recursive: true })) {
    if (typeof f !== "string" || f.endsWith(".ts") || statSync(join(SRC, f)).isDirectory()) continue;
    cpSync(join(SRC, f), join(next, f));
  }
  writeFileSync(join(next, ".built"), "");
  utimesSync(join(next, ".built"), started, started);
  const old = `${DIST}.${process.pid}.old`;
  if (existsSync(DIST)) renameSync(DIST, old);
  renameSync(next, DIST);
  rmSync(old, { recursive: true, force: true });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!(process.argv.includes("--if-stale") && fresh())) await build();
}
