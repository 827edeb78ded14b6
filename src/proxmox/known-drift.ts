// Where the real servers answer outside their own published schema (recorded
// replies, or the source says so): the simulator answers like them, and the
// conformance check accepts exactly these, nothing else.
import type { ApiSchema, Violation } from "./schema.ts";

/** Reply paths (`data[0].netmask`) real PVE sends although the method's `returns` does not declare them so. */
export const PVE_REPLY_DRIFT: Record<string, RegExp> = {
  // PVE writes the prefix length ("24") although the schema says ipv4mask; recorded items carry bridge_stp/bridge_fd, undeclared.
  "GET /nodes/{node}/network": /^data\[\d+\]\.(netmask|bridge_stp|bridge_fd)$/,
  // Recorded (PVE 6.2 and later): node items carry id, type, disk, maxdisk; the schema lists none of them.
  "GET /nodes": /^data\[\d+\]\.(id|type|disk|maxdisk)$/,
  // Recorded: the login reply has `cap` (the UI's capabilities), undeclared.
  "POST /access/ticket": /^data\.cap$/,
  // pve-manager API2/Tasks.pm splits a token's authid into user + tokenid (ENDPOINTS.md, src).
  "GET /nodes/{node}/tasks/{upid}/status": /^data\.tokenid$/,
  // Recorded: content items carry `content` (storage plugins' list_volumes).
  "GET /nodes/{node}/storage/{storage}/content": /^data\[\d+\]\.content$/,
  // jobs.cfg is a section config: a job read back carries its section `type` (vzdump).
  "GET /cluster/backup/{id}": /^data\.type$/,
  "GET /nodes/{node}/tasks": /^data\[\d+\]\.tokenid$/,
  // Recorded (PVE 8): vmstatus carries disk, which the status/current schema does not list.
  "GET /nodes/{node}/qemu/{vmid}/status/current": /^data\.disk$/,
  "GET /nodes/{node}/qemu": /^data\[\d+\]\.disk$/,
  // pve-firewall keeps each alias's computed ipversion and lists it.
  "GET /cluster/firewall/aliases": /^data\[\d+\]\.ipversion$/,
};

/** The schema says `null`, PBS's code returns the worker's UPID (api2/admin/{prune,verify,sync}.rs run_*_job, api2/config/datastore.rs). */
export const PBS_NULL_BUT_DATA = new Set([
  "POST /admin/prune/{id}/run",
  "POST /admin/verify/{id}/run",
  "POST /admin/sync/{id}/run",
  "POST /config/datastore",
  // The log is a list of {n, t} with `total`, although the schema dump says null.
  "GET /nodes/{node}/tasks/{upid}/log",
]);

/** A reply checked strictly against the schema, minus the known drift of that server. */
export function replyViolations(
  schema: ApiSchema,
  product: "pve" | "pbs",
  method: string,
  template: string,
  data: unknown,
): Violation[] {
  if (product === "pbs" && PBS_NULL_BUT_DATA.has(`${method} ${template}`)) return [];
  const drift = product === "pve" ? PVE_REPLY_DRIFT[`${method} ${template}`] : undefined;
  return schema.checkReply(method, template, data, { strict: true }).filter((v) => !drift?.test(v.path));
}
