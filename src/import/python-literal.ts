// Python's ast.literal_eval for the values of an Ansible INI inventory: `x=1` is
// the int 1, `x=True` a bool, `x=[1, 'a']` a list, `x={'k': None}` a dict; what
// literal_eval rejects stays the string as written (Ansible's `_parse_value`).
// Tuples and sets become arrays (as they do in `ansible-inventory --list`).

/** Thrown inside the parser when the text is no Python literal (caught in literalEval). */
class NotLiteral extends Error {}
const NOT_LITERAL = Symbol("not a literal");

/** The value Ansible's INI plugin gives `raw`: a Python literal, else the string itself. */
export function parseIniValue(raw: string): unknown {
  const v = literalEval(raw);
  return v === NOT_LITERAL ? raw : v;
}

function literalEval(src: string): unknown {
  const p = new Parser(src.replace(/^[ \t]+/, ""));
  try {
    const v = p.expression(true);
    p.ws();
    return p.done() ? v : NOT_LITERAL;
  } catch (e) {
    if (e instanceof NotLiteral) return NOT_LITERAL;
    throw e;
  }
}

const ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
  "\\": "\\",
  "'": "'",
  '"': '"',
  "\n": "",
};

class Parser {
  i = 0;
  constructor(readonly s: string) {}
  done(): boolean {
    return this.i >= this.s.length;
  }
  ws(): void {
    while (this.i < this.s.length && /[ \t\n\r\f]/.test(this.s[this.i]!)) this.i++;
  }
  fail(): never {
    throw new NotLiteral();
  }
  eat(c: string): boolean {
    this.ws();
    if (this.s.startsWith(c, this.i)) {
      this.i += c.length;
      return true;
    }
    return false;
  }

  /** A value, or (top level) a bare tuple `1, 2`. */
  expression(top = false): unknown {
    const first = this.value();
    if (!top) return first;
    this.ws();
    if (this.s[this.i] !== ",") return first;
    const items = [first];
    while (this.eat(",")) {
      this.ws();
      if (this.done()) break;
      items.push(this.value());
    }
    return items;
  }

  value(): unknown {
    this.ws();
    const c = this.s[this.i];
    if (c === "[") return this.sequence("[", "]");
    if (c === "(") {
      // (x) is x; (x,) and () are tuples.
      this.i++;
      if (this.eat(")")) return [];
      const v = this.value();
      if (this.eat(")")) return v;
      return [v, ...this.sequenceRest(")")];
    }
    if (c === "{") return this.braces();
    if (c === "-" || c === "+") {
      this.i++;
      const n = this.value();
      if (typeof n !== "number") this.fail();
      return c === "-" ? -n : n;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i))?.[0];
    if (word !== undefined) {
      const q = this.s[this.i + word.length];
      if ((q === "'" || q === '"') && /^(r|u|b|br|rb)$/i.test(word)) return this.strings();
      this.i += word.length;
      if (word === "True") return true;
      if (word === "False") return false;
      if (word === "None") return null;
      this.fail();
    }
    if (c === "'" || c === '"') return this.strings();
    return this.number();
  }

  sequence(open: string, close: string): unknown[] {
    this.i += open.length;
    if (this.eat(close)) return [];
    const first = this.value();
    return [first, ...this.sequenceRest(close)];
  }

  /** After the first item: `, item`* [,] close. */
  sequenceRest(close: string): unknown[] {
    const items: unknown[] = [];
    for (;;) {
      if (this.eat(close)) return items;
      if (!this.eat(",")) this.fail();
      if (this.eat(close)) return items;
      items.push(this.value());
    }
  }

  braces(): unknown {
    this.i++;
    if (this.eat("}")) return {};
    const first = this.value();
    if (!this.eat(":")) return [first, ...this.sequenceRest("}")]; // a set
    const out: Record<string, unknown> = {};
    let key = first;
    for (;;) {
      // JSON keys are strings; ansible-inventory prints True/None keys as "true"/"null".
      if (typeof key === "string" || typeof key === "number") out[String(key)] = this.value();
      else if (typeof key === "boolean" || key === null) out[String(key)] = this.value();
      else this.fail(); // unhashable key
      if (this.eat("}")) return out;
      if (!this.eat(",")) this.fail();
      if (this.eat("}")) return out;
      key = this.value();
      if (!this.eat(":")) this.fail();
    }
  }

  /** One or more adjacent string literals ('a' "b" is "ab"). */
  strings(): string {
    let out = "";
    let any = false;
    for (;;) {
      this.ws();
      const m = /^([rRuUbB]{0,2})('''|"""|'|")/.exec(this.s.slice(this.i));
      if (!m) break;
      any = true;
      const raw = /r/i.test(m[1]!);
      const q = m[2]!;
      this.i += m[0].length;
      for (;;) {
        if (this.done()) this.fail();
        if (this.s.startsWith(q, this.i)) {
          this.i += q.length;
          break;
        }
        const ch = this.s[this.i]!;
        if (ch === "\n" && q.length === 1) this.fail();
        if (ch === "\\") {
          const n = this.s[this.i + 1];
          if (n === undefined) this.fail();
          if (raw) {
            out += ch + n;
            this.i += 2;
            continue;
          }
          out += this.escape();
          continue;
        }
        out += ch;
        this.i++;
      }
    }
    if (!any) this.fail();
    return out;
  }

  escape(): string {
    const n = this.s[this.i + 1]!;
    this.i += 2;
    if (n in ESCAPES) return ESCAPES[n]!;
    const hex = (len: number) => {
      const h = this.s.slice(this.i, this.i + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(h)) this.fail();
      this.i += len;
      return String.fromCodePoint(parseInt(h, 16));
    };
    if (n === "x") return hex(2);
    if (n === "u") return hex(4);
    if (n === "U") return hex(8);
    if (/[0-7]/.test(n)) {
      let o = n;
      while (o.length < 3 && /[0-7]/.test(this.s[this.i] ?? "")) o += this.s[this.i++];
      return String.fromCodePoint(parseInt(o, 8));
    }
    return `\\${n}`; // Python keeps unknown escapes as written
  }

  number(): number {
    const rest = this.s.slice(this.i);
    const m =
      /^(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?)/.exec(
        rest,
      );
    if (!m || /^[A-Za-z0-9_.]/.test(rest.slice(m[0].length))) this.fail();
    const text = m[0].replaceAll("_", "");
    this.i += m[0].length;
    if (/^0[xob]/i.test(text)) return Number(text.toLowerCase());
    // Python rejects leading zeros in decimal ints (007), but allows 0, 00 and 0.5.
    if (/^0\d/.test(text) && !/[.eE]/.test(text) && !/^0+$/.test(text)) this.fail();
    return Number(text);
  }
}
