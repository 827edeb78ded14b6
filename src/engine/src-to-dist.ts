// Module hooks (node:module register) for built lab (see user-code.ts): user code's
// imports of lab's src/**/*.ts resolve to the same module built in dist/**/*.js.
interface Dirs {
  src: string;
  dist: string;
}
interface Resolved {
  url: string;
  format?: string | null;
}
type NextResolve = (specifier: string, context: unknown) => Promise<Resolved>;

let dirs: Dirs | undefined;

export function initialize(data: Dirs): void {
  dirs = data;
}

export async function resolve(specifier: string, context: unknown, next: NextResolve): Promise<Resolved> {
  const r = await next(specifier, context);
  if (!dirs || !r.url.startsWith(dirs.src) || !r.url.endsWith(".ts")) return r;
  return { ...r, url: `${dirs.dist}${r.url.slice(dirs.src.length, -".ts".length)}.js`, format: "module" };
}
