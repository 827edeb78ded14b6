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
  /** Longest first, so a value that contains another is scrubbed whole. Rebuilt lazily. */
  #sorted: string[] | undefined;
  add(value: string): void {
    // Very short values would redact ordinary words; the secrets store refuses them.
    // A value also leaks in its JSON-escaped and URL-encoded forms, and a multi-line
    // value (a key, a certificate) one line at a time (lines of 8+ chars: short
    // lines like "true" or "}" are ordinary words, not secrets).
    const lines = value.includes("\n")
      ? value
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter((l) => l.length >= 8)
      : [];
    for (const v of [value, JSON.stringify(value).slice(1, -1), urlEncoded(value), ...lines]) {
      if (v.length >= 4 && !this.#values.has(v)) {
        this.#values.add(v);
        this.#sorted = undefined;
      }
    }
  }
  redact(text: string): string {
    this.#sorted ??= [...this.#values].sort((a, b) => b.length - a.length);
    let out = text;
    for (const v of this.#sorted) if (out.includes(v)) out = out.split(v).join("«redacted»");
    return out;
  }
}

export const redact = (text: string): string => Redactor.global.redact(text);

/** encodeURIComponent throws on a lone surrogate; such a value has no URL form to scrub. */
function urlEncoded(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return value;
  }
}
