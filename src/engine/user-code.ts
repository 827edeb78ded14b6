// The user's TypeScript (playbooks, roles, what they import) loads through tsx, registered
// on the first load: commands that load none (help, secrets, backup) never pay for it.
// When lab itself runs built (dist/, bin/build.mjs), a playbook's import of lab's
// src/*.ts is sent to the built module, so both share one engine (one registry of
// secrets, one `instanceof` for resources). Either way `import ... from "lab"` is the
// running engine (lab-package.mjs).
import { register } from "node:module";

let ready: Promise<void> | undefined;

/** Call before importing user code. */
export function userCodeReady(): Promise<void> {
  return (ready ??= setUp());
}

/** The running engine's public entry point (src/index.ts, or dist/index.js when built). */
export const labIndex = (): URL =>
  new URL(import.meta.url.endsWith(".js") ? "../index.js" : "../index.ts", import.meta.url);

async function setUp(): Promise<void> {
  register(new URL("./lab-package.mjs", import.meta.url), { data: { index: labIndex().href } });
  // Running from src/ (bin/lab.mjs without a fresh build, or vitest): a TypeScript loader is in place.
  if (!import.meta.url.endsWith(".js")) return;
  const { register: tsx } = await import("tsx/esm/api");
  tsx();
  // Registered after tsx, so it runs first and maps what tsx resolved.
  register(new URL("./src-to-dist.js", import.meta.url), {
    data: { src: new URL("../../src/", import.meta.url).href, dist: new URL("../", import.meta.url).href },
  });
}
