// Most resources read exactly one fact: this fills in facts() and read() for them.
import type { Fact, Resource } from "../engine/types.ts";

export function withFact<W, H>(fact: Fact<H>, r: Omit<Resource<W, H>, "facts" | "read">): Resource<W, H> {
  return { ...r, facts: () => [fact], read: (ctx) => ctx.facts.get(fact) };
}
