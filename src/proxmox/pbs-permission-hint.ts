// What to grant when PBS refuses a call. PBS names the privilege and path when a
// handler's own check fails ("missing permissions 'Datastore.Modify' on
// '/datastore/lab'"), but the router's check and the sync-job checks only say
// "permission check failed": the API schema's `permissions` says what the call needs.
import { pbsSchema } from "./schema.ts";

interface Permission {
  check?: { path: string[]; privs: string[]; partial?: boolean | number };
  description?: string;
}

const REFUSED = /^(missing permissions|permission check failed|backup owner check failed|Unprivileged users)/;

export function pbsPermissionHint(method: string, path: string, status: number, reason: string): string | undefined {
  if (status !== 403 && !(status === 400 && REFUSED.test(reason))) return undefined;
  const schema = pbsSchema();
  const m = schema.match(path.split("?")[0]!);
  const perm = (m && schema.method(m.template, method)?.permissions) as Permission | undefined;
  const at = (c: string): string => c.replace(/^\{(.+)\}$/, (_, k: string) => m?.pathParams[k] ?? c);
  const needs = perm?.check
    ? `${perm.check.privs.join(perm.check.partial ? " or " : " and ")} on /${perm.check.path.map(at).join("/")}`
    : perm?.description;
  return (
    `the PBS token lacks a privilege${needs ? ` (PBS: ${needs.replace(/\.$/, "")})` : ""}: grant a role that has it ` +
    "on that path to the token and to its user (proxmox-backup-manager acl update PATH ROLE --auth-id USER@REALM!TOKEN; " +
    "README: Least-privilege PBS tokens)"
  );
}
