// Task status, log and list: how clients follow a UPID.
import type { Call, Routes } from "../context.ts";
import { flag, int, need, node, str } from "../context.ts";
import { fail, paramError } from "../errors.ts";
import { Envelope } from "../http.ts";
import { checkPrivs, hasPriv } from "../permissions.ts";
import type { TaskRecord } from "../state.ts";

const UPID_RE = /^UPID:([a-zA-Z0-9-]+):([0-9A-F]{8}):([0-9A-F]{8,9}):([0-9A-F]{8}):([^:\s]+):([^:\s]*):([^:\s]+):$/;

function task(c: Call): TaskRecord {
  node(c);
  const upid = need(c, "upid");
  if (!UPID_RE.test(upid)) throw fail(`unable to parse worker upid '${upid}'`);
  const t = c.sim.tasks.find(upid);
  if (!t) throw paramError({ upid: "no such task" });
  if (t.user !== c.auth.userid)
    checkPrivs(c.sim.state, c.auth, `/nodes/${t.node}`, [c.method === "DELETE" ? "Sys.Modify" : "Sys.Audit"]);
  return t;
}

/** The status/list view of a task: no log, `user` + `tokenid` split. */
function summary(t: TaskRecord, list: boolean): Record<string, unknown> {
  const { log: _log, exitstatus, status, endtime, ...rest } = t;
  if (list) return { ...rest, ...(status === "stopped" ? { status: exitstatus, endtime } : {}) };
  return { ...rest, status, ...(exitstatus !== undefined ? { exitstatus } : {}) };
}

function log(c: Call): Envelope {
  const t = task(c);
  const lines = t.log.length ? t.log : t.status === "running" ? ["no content"] : [];
  const start = int(c, "start") ?? 0;
  const limit = int(c, "limit") ?? 50;
  const page = lines
    .slice(start, limit === 0 ? undefined : start + limit)
    .map((text, i) => ({ n: start + i + 1, t: text }));
  return new Envelope(page, { total: lines.length });
}

const STATUS_CLASS = (t: TaskRecord): string =>
  t.exitstatus === "OK" ? "ok" : t.exitstatus?.startsWith("WARNINGS") ? "warning" : "error";

function list(c: Call): Record<string, unknown>[] {
  const n = node(c);
  const source = str(c, "source") ?? "archive";
  const vmid = str(c, "vmid");
  const type = str(c, "typefilter");
  const user = str(c, "userfilter");
  const statuses = str(c, "statusfilter")?.split(/[,; ]+/);
  const since = int(c, "since");
  const until = int(c, "until");
  const audit = hasPriv(c.sim.state, c.auth, `/nodes/${n}`, "Sys.Audit");
  const matches = c.sim.state.tasks.filter(
    (t) =>
      t.node === n &&
      (audit || t.user === c.auth.userid) &&
      (source === "all" || (source === "active") === (t.status === "running")) &&
      (!vmid || t.id === vmid) &&
      (!type || t.type === type) &&
      (!user || t.user.includes(user)) &&
      (!flag(c, "errors") || (t.status === "stopped" && t.exitstatus !== "OK")) &&
      (!statuses || (t.status === "stopped" && statuses.includes(STATUS_CLASS(t)))) &&
      (since === undefined || t.starttime >= since) &&
      (until === undefined || t.starttime <= until),
  );
  const start = int(c, "start") ?? 0;
  return matches
    .reverse()
    .slice(start, start + (int(c, "limit") ?? 50))
    .map((t) => summary(t, true));
}

export const taskRoutes: Routes = {
  "GET /nodes/{node}/tasks": list,
  "GET /nodes/{node}/tasks/{upid}": (c) => (task(c), [{ name: "log" }, { name: "status" }]),
  "GET /nodes/{node}/tasks/{upid}/status": (c) => summary(task(c), false),
  "GET /nodes/{node}/tasks/{upid}/log": log,
  "DELETE /nodes/{node}/tasks/{upid}": (c) => (c.sim.tasks.cancel(task(c).upid), null),
};
