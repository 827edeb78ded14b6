// Ansible host patterns in inventories: `web[01:03]`, `db-[a:c]`, `node[0:10:2]`,
// `host:2222`, `[::1]:22` (from parse_address and expand_hostname_range).

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Host names and the optional port a pattern stands for; throws a message on a bad range. */
export function expandHostPattern(pattern: string): { hosts: string[]; port?: number } {
  let host = pattern;
  let port: number | undefined;
  const bracketed = /^\[(.+)\]:([0-9]+)$/.exec(pattern);
  const plain = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/.exec(pattern);
  const m = bracketed ?? plain;
  // parse_address keeps the whole pattern as the name when what precedes ":port" is no address.
  if (m && /^[\p{L}\p{N}_.\-[\]:]+$/u.test(m[1]!)) {
    host = m[1]!;
    port = Number(m[2]);
  }
  if (pattern.trim().endsWith(":") && port === undefined) {
    throw new Error(
      `Invalid host pattern '${pattern}' supplied, ending in ':' is not allowed, this character is reserved to provide a port.`,
    );
  }
  const hosts = host.includes("[") ? expandRange(host) : [host];
  return port === undefined ? { hosts } : { hosts, port };
}

function expandRange(line: string): string[] {
  const open = line.indexOf("[");
  const close = line.indexOf("]", open);
  if (close < 0) throw new Error(`unterminated range in host pattern '${line}'`);
  const head = line.slice(0, open);
  const tail = line.slice(close + 1);
  const bounds = line.slice(open + 1, close).split(":");
  if (bounds.length !== 2 && bounds.length !== 3) throw new Error("host range must be begin:end or begin:end:step");
  const beg = bounds[0] || "0";
  const end = bounds[1]!;
  const step = bounds.length === 3 ? Number(bounds[2]) : 1;
  if (!end) throw new Error("host range must specify end value");
  if (!Number.isInteger(step) || step < 1)
    throw new Error(`host range step must be a positive integer, got '${bounds[2]}'`);
  let seq: string[];
  const ib = beg.length === 1 ? LETTERS.indexOf(beg) : -1;
  const ie = end.length === 1 ? LETTERS.indexOf(end) : -1;
  if (ib >= 0 && ie >= 0) {
    if (ib > ie) throw new Error("host range must have begin <= end");
    seq = [];
    for (let i = ib; i <= ie; i += step) seq.push(LETTERS[i]!);
  } else {
    if (!/^\d+$/.test(beg) || !/^\d+$/.test(end)) throw new Error(`invalid host range [${bounds.join(":")}]`);
    const width = beg[0] === "0" && beg.length > 1 ? beg.length : 0;
    if (width && width !== end.length) throw new Error("host range must specify equal-length begin and end formats");
    seq = [];
    for (let i = Number(beg); i <= Number(end); i += step) seq.push(String(i).padStart(width, "0"));
  }
  return seq.flatMap((s) => {
    const name = head + s + tail;
    return name.includes("[") ? expandRange(name) : [name];
  });
}
