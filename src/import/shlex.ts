// Python's shlex.split(line, comments=True) in POSIX mode: what Ansible's INI
// plugin uses to cut a host line into "name k=v k=v" tokens.
// Outside quotes a backslash escapes the next character and "#" ends the line
// (even inside a word); inside "..." a backslash escapes only " and \; '...' is literal.

export function shlexSplit(line: string): string[] {
  const tokens: string[] = [];
  let token = "";
  let inToken = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else token += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && (line[i + 1] === '"' || line[i + 1] === "\\")) token += line[++i];
      else if (c === "\\" && i + 1 >= line.length) throw new Error("No escaped character");
      else token += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inToken = true;
    } else if (c === "\\") {
      if (i + 1 >= line.length) throw new Error("No escaped character");
      token += line[++i];
      inToken = true;
    } else if (c === "#") {
      break;
    } else if (/\s/.test(c)) {
      if (inToken) tokens.push(token);
      token = "";
      inToken = false;
    } else {
      token += c;
      inToken = true;
    }
  }
  if (quote) throw new Error("No closing quotation");
  if (inToken) tokens.push(token);
  return tokens;
}
