// Ansible's INI inventory format, after its own parser (plugins/inventory/ini.py):
// not plain INI. Lines before any section belong to "ungrouped"; `[g]` lists
// hosts (`name[:port] k=v ...`, split like shlex with comments), `[g:vars]` holds
// `k=v` lines, `[g:children]` group names that may be declared later. Values are
// Python literals where they parse as one (see python-literal.ts). ADR 0014.
import { badInput } from "../errors.ts";
import { AnsibleInventory } from "./ansible-model.ts";
import { expandHostPattern } from "./host-pattern.ts";
import { parseIniValue } from "./python-literal.ts";
import { shlexSplit } from "./shlex.ts";

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/;

interface Pending {
  line: number;
  state: "vars" | "children";
  parents: string[];
}

export function parseIni(file: string, text: string, inv: AnsibleInventory): void {
  const pending = new Map<string, Pending>();
  let group = "ungrouped";
  let state = "hosts";
  const lines = text.split(/\r\n|\r|\n/);
  for (const [i, raw] of lines.entries()) {
    const lineno = i + 1;
    const origin = { file, line: lineno };
    const fail = (message: string, hint = "fix the line (see Ansible's INI inventory format)"): never => {
      throw badInput(message, origin, hint);
    };
    const line = raw.trim();
    if (!line || line[0] === "#" || line[0] === ";") continue;

    const m = SECTION.exec(line);
    if (m) {
      group = m[1]!;
      state = m[2] ?? "hosts";
      if (!["hosts", "children", "vars"].includes(state))
        fail(`Section [${group}:${state}] has unknown type: ${state}`, "use [group], [group:vars] or [group:children]");
      if (!inv.groups.has(group)) {
        // [g:vars] alone does not declare g; [g] or [g:children] (maybe later) must.
        if (state === "vars" && !pending.has(group)) pending.set(group, { line: lineno, state: "vars", parents: [] });
        inv.addGroup(group, origin);
      }
      const p = pending.get(group);
      if (p && state !== "vars") {
        if (p.state === "children") addPendingChildren(inv, group, pending, origin);
        else pending.delete(group);
      }
      continue;
    }
    if (line.startsWith("[") && line.endsWith("]")) {
      fail(
        `Invalid section entry: '${line}'. Please make sure that there are no spaces in the section entry, and that there are no other invalid characters`,
      );
    }

    if (state === "hosts") {
      let tokens: string[];
      try {
        tokens = shlexSplit(line);
      } catch (e) {
        return fail(
          `Error parsing host definition '${line}': ${(e as Error).message}`,
          "close the quote or remove the trailing backslash",
        );
      }
      if (tokens.length === 0) continue;
      let expanded;
      try {
        expanded = expandHostPattern(tokens[0]!);
      } catch (e) {
        return fail((e as Error).message, "ranges look like web[01:03] or db-[a:c]");
      }
      if (expanded.hosts.some((h) => h.trim() === "---"))
        fail(
          `Invalid host pattern '${tokens[0]}' supplied, '---' is normally a sign this is a YAML file.`,
          "a YAML inventory needs a .yml/.yaml name or valid YAML",
        );
      const vars: [string, unknown][] = [];
      for (const t of tokens.slice(1)) {
        const eq = t.indexOf("=");
        if (eq < 0)
          fail(
            `Expected key=value host variable assignment, got: ${t}`,
            "host vars are written name=value after the host name",
          );
        vars.push([t.slice(0, eq), parseIniValue(t.slice(eq + 1))]);
      }
      for (const h of expanded.hosts) {
        inv.addHost(h, group, origin, expanded.port);
        for (const [k, v] of vars) inv.setVar("host", h, k, v, origin);
      }
    } else if (state === "vars") {
      const eq = line.indexOf("=");
      if (eq < 0) fail(`Expected key=value, got: ${line}`, "a [group:vars] line is name=value");
      inv.setVar("group", group, line.slice(0, eq).trim(), parseIniValue(line.slice(eq + 1).trim()), origin);
    } else {
      const child = GROUP_NAME.exec(line)?.[1];
      if (child === undefined)
        return fail(`Expected group name, got: ${line}`, "a [group:children] line names one group");
      if (!inv.groups.has(child)) {
        const p = pending.get(child);
        if (p) p.parents.push(group);
        else pending.set(child, { line: lineno, state: "children", parents: [group] });
      } else inv.addChild(group, child, origin);
    }
  }
  for (const [name, p] of pending) {
    const origin = { file, line: p.line };
    if (p.state === "vars")
      throw badInput(
        `Section [${name}:vars] not valid for undefined group: ${name}`,
        origin,
        `declare [${name}] (or list it under a [parent:children]) too`,
      );
    throw badInput(
      `Section [${p.parents[p.parents.length - 1]}:children] includes undefined group: ${name}`,
      origin,
      `declare [${name}] or remove it from the children`,
    );
  }
}

function addPendingChildren(
  inv: AnsibleInventory,
  group: string,
  pending: Map<string, Pending>,
  origin: { file: string; line: number },
): void {
  for (const parent of pending.get(group)?.parents ?? []) {
    inv.addChild(parent, group, origin);
    if (pending.get(parent)?.state === "children") addPendingChildren(inv, parent, pending, origin);
  }
  pending.delete(group);
}
