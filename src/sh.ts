// The one quoting function for every remote command. Values reach the host as
// data: single-quoted, with embedded single quotes closed, escaped and reopened.

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quote one value for POSIX sh. A leading "-" stays bare: quotes cannot stop a
 * command from reading a value as an option (sh removes them); `--` does.
 */
export function quote(value: string | number): string {
  const s = String(value);
  if (SAFE.test(s)) return s; // "" fails SAFE (one character at least): it becomes ''
  return `'${s.replaceAll("'", `'"'"'`)}'`;
}

/** A shell fragment that is already safe to splice in unquoted (built by `sh`). */
export class Raw {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export const raw = (text: string): Raw => new Raw(text);

type Arg = string | number | Raw | readonly (string | number)[];

/**
 * Tagged template: every interpolated value is quoted (arrays become several
 * quoted words); only `Raw` fragments built by this module pass through.
 *   sh`install -m ${mode} ${src} ${dest}`
 */
export function sh(strings: TemplateStringsArray, ...args: Arg[]): string {
  // A tagged template has one more string than values: strings[i + 1] always exists.
  let out = strings[0]!;
  args.forEach((arg, i) => {
    if (arg instanceof Raw) out += arg.text;
    else if (Array.isArray(arg)) out += (arg as (string | number)[]).map(quote).join(" ");
    else out += quote(arg as string | number);
    out += strings[i + 1]!;
  });
  return out;
}
