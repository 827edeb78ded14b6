// A secret value. It never stringifies to its value: `${s}`, JSON.stringify and
// util.inspect all show «secret:NAME». Only `reveal()` gives the value, and the
// engine's redactor scrubs every revealed value from all output.
import { inspect } from "node:util";

export class Secret {
  readonly #value: string;
  constructor(
    readonly name: string,
    value: string,
  ) {
    this.#value = value;
    Redactor.global.add(value);
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return `«secret:${this.name}»`;
  }
  toJSON(): string {
    return this.toString();
  }
  [inspect.custom](): string {
    return this.toString();
  }
}

export const isSecret = (v: unknown): v is Secret => v instanceof Secret;

/** Replaces every known secret value in a text. One per process: secrets are loaded once per run. */
export class Redactor {
  static readonly global = new Redactor();
  readonly #values = new Set<string>();
  add(value: string): void {
    // Very short values would redact ordinary words; the secrets store refuses them.
    if (value.length >= 4) this.#values.add(value);
  }
  redact(text: string): string {
    let out = text;
    for (const v of this.#values) if (out.includes(v)) out = out.split(v).join("«redacted»");
    return out;
  }
}

export const redact = (text: string): string => Redactor.global.redact(text);
