// Module hook (node:module register, see user-code.ts): user code's `import ... from "lab"`
// loads the engine that is running, whichever copy of lab the project's node_modules holds
// (or none): one engine per process (one registry of secrets, one class per resource).
// Plain JavaScript (like bin/, outside ESLint's typed rules): bin/build.mjs copies it to dist/ as is,
// and it loads without a TypeScript loader, whether lab runs built or from src/.
let index;

export function initialize(data) {
  index = data.index;
}

export async function resolve(specifier, context, next) {
  // Resolved by the hooks after this one, so a TypeScript loader (tsx) sees src/index.ts as its own.
  return next(specifier === "lab" && index ? index : specifier, context);
}
