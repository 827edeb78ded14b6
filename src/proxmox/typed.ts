// Proxmox calls checked by the compiler: the path is the template the API
// viewer shows ("/nodes/{node}/qemu/{vmid}/config"), the parameters one object
// with the path's own among them (as PVE merges them), and both are typed from
// the official schema (api-types/pve.ts), so a wrong path, method, parameter
// name or value type fails `tsc`. The calls go through the caller's `send`
// (ProxmoxClient.envelope: pinned TLS, retries, the recorder). See ADR 0011.
import type { HttpMethod } from "./schema.ts";
import type { Envelope, Params } from "./transport.ts";

interface Spec {
  readonly params: object;
  readonly returns: unknown;
}
/** A generated path table (api-types/*.ts): template -> method -> params and reply. */
export type PathTable<S = Record<string, unknown>> = { readonly [P in keyof S]: Partial<Record<HttpMethod, Spec>> };

/** The templates that have method M. */
export type PathsFor<S extends PathTable<S>, M extends HttpMethod> = {
  [P in keyof S]: S[P] extends Record<M, Spec> ? P : never;
}[keyof S] &
  string;
type SpecOf<S extends PathTable<S>, M extends HttpMethod, P extends keyof S> =
  S[P] extends Record<M, infer X extends Spec> ? X : never;
export type ParamsOf<S extends PathTable<S>, M extends HttpMethod, P extends keyof S> = SpecOf<S, M, P>["params"];
export type ReturnsOf<S extends PathTable<S>, M extends HttpMethod, P extends keyof S> = SpecOf<S, M, P>["returns"];
/** The parameters may be left out when none is required. */
type Args<T> = Record<never, never> extends T ? [params?: T] : [params: T];

type Call<S extends PathTable<S>, M extends HttpMethod> = <P extends PathsFor<S, M>>(
  path: P,
  ...params: Args<ParamsOf<S, M, P>>
) => Promise<ReturnsOf<S, M, P>>;

export interface TypedApi<S extends PathTable<S>> {
  get: Call<S, "GET">;
  post: Call<S, "POST">;
  put: Call<S, "PUT">;
  delete: Call<S, "DELETE">;
  /** A GET's whole reply: `data` and the keys next to it (a task log's `total`, the node network's `changes`). */
  envelope<P extends PathsFor<S, "GET">>(
    path: P,
    ...params: Args<ParamsOf<S, "GET", P>>
  ): Promise<{ data: ReturnsOf<S, "GET", P>; extra: Envelope["extra"] }>;
}

/** One HTTP exchange on a concrete path (ProxmoxClient.envelope). */
export type Send = (method: HttpMethod, path: string, params?: Params) => Promise<Envelope>;

/** Typed calls over `send`. */
export function typedApi<S extends PathTable<S>>(send: Send): TypedApi<S> {
  // The types are checked at the call site; here the path table is only data.
  const exchange = (method: HttpMethod, template: string, params?: object): Promise<Envelope> =>
    send(method, ...concrete(template, params));
  const data =
    (method: HttpMethod) =>
    async (template: string, params?: object): Promise<never> =>
      (await exchange(method, template, params)).data as never;
  return {
    get: data("GET"),
    post: data("POST"),
    put: data("PUT"),
    delete: data("DELETE"),
    envelope: (template: string, params?: object) => exchange("GET", template, params),
  } as TypedApi<S>;
}

/** The concrete path (path parameters filled in, escaped: UPIDs and CIDRs hold ':' and '/') and the other parameters, if any. */
export function concrete(template: string, params: object = {}): [string, Params?] {
  const rest: Record<string, unknown> = { ...params };
  const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = rest[name];
    if (typeof value !== "string" && typeof value !== "number")
      throw new TypeError(`${template}: path parameter '${name}' is missing`);
    delete rest[name];
    return encodeURIComponent(String(value));
  });
  return Object.keys(rest).length ? [path, rest as Params] : [path];
}
