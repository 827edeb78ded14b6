// The vars Ansible resolves for one host from an inventory (VariableManager.get_vars
// with the default precedence): "all" inline < group_vars/all < every group's inline
// vars (by depth, ansible_group_priority, name) < every group's group_vars files <
// host inline vars < host_vars files. Merges are shallow (hash_behaviour=replace).
import type { AnsibleInventory, Origin, VarsOwner } from "./ansible-model.ts";
import type { VarsFile } from "./vars-dirs.ts";

export interface VarsFiles {
  group: ReadonlyMap<string, VarsFile[]>;
  host: ReadonlyMap<string, VarsFile[]>;
}

export interface Resolved {
  vars: Record<string, unknown>;
  origins: Record<string, Origin>;
}

/** Groups as Ansible's sort_groups orders them: depth, then priority, then name (code points). */
export function sortGroups(inv: AnsibleInventory, groups: string[]): string[] {
  const depth = inv.depths();
  const priority = (g: string) => {
    const p = inv.groups.get(g)?.vars.ansible_group_priority;
    return typeof p === "number" ? p : Number.parseInt(typeof p === "string" ? p : "1", 10) || 1;
  };
  return [...groups].sort(
    (a, b) => (depth.get(a) ?? 0) - (depth.get(b) ?? 0) || priority(a) - priority(b) || (a < b ? -1 : a > b ? 1 : 0),
  );
}

export function ansibleHostVars(inv: AnsibleInventory, files: VarsFiles, host: string): Resolved {
  const out: Resolved = { vars: {}, origins: {} };
  const set = (vars: Record<string, unknown>, origins: Record<string, Origin>) => {
    for (const [k, v] of Object.entries(vars)) {
      out.vars[k] = v;
      out.origins[k] = origins[k]!;
    }
  };
  const inline = (o: VarsOwner | undefined) => o && set(o.vars, o.varOrigins);
  const fromFiles = (fs: VarsFile[] | undefined) => fs?.forEach((f) => set(f.vars, f.origins));
  const groups = sortGroups(
    inv,
    inv.groupsOf(host).filter((g) => g !== "all"),
  );
  inline(inv.groups.get("all"));
  fromFiles(files.group.get("all"));
  for (const g of groups) inline(inv.groups.get(g));
  for (const g of groups) fromFiles(files.group.get(g));
  inline(inv.hosts.get(host));
  fromFiles(files.host.get(host));
  return out;
}
