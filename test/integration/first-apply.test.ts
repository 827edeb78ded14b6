// Later steps see what earlier steps changed, on a FRESH real host (its own
// container, never touched before): a role writes /etc/init.d/NAME, then manages
// service NAME, with a notified restart. The plan marks the service as known
// after apply; the first apply converges; the second changes nothing.
import { afterAll, beforeAll, expect, it } from "vitest";
import { labData, startHosts, type TestLab } from "../hosts/hosts.ts";
import { changedCount, inHost, makeProject, type JsonReport, type TestProject } from "./project.ts";

const NAME = "labdemo";
const INIT = `#!/bin/sh
### BEGIN INIT INFO
# Provides:          ${NAME}
# Required-Start:    $local_fs
# Required-Stop:     $local_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: lab's first-apply test daemon
### END INIT INFO
PID=/run/${NAME}.pid
case "$1" in
  start) start-stop-daemon --start --quiet --background --make-pidfile --pidfile "$PID" --exec /bin/sleep -- 100000 ;;
  stop) start-stop-daemon --stop --quiet --pidfile "$PID" --retry 5; rm -f "$PID" ;;
  restart) "$0" stop; "$0" start ;;
  status) start-stop-daemon --status --pidfile "$PID" ;;
  *) echo "usage: $0 start|stop|restart|status"; exit 2 ;;
esac
`;

const SITE = `
import { Type, definePlaybook, defineRole, file, restartService, service } from "@lab";

const daemon = defineRole({
  name: "daemon",
  vars: Type.Object({ name: Type.String(), script: Type.String() }, { additionalProperties: false }),
  resources: (v) => ({
    resources: [
      file({ path: "/etc/init.d/" + v.name, content: v.script, mode: "0755" }, { notify: ["restart " + v.name] }),
      service({ name: v.name, state: "started", enabled: true }),
    ],
    handlers: [restartService(v.name)],
  }),
});

export default definePlaybook({ name: "site", plays: [{ name: "daemon", hosts: "all", roles: () => [daemon({ name: ${JSON.stringify(NAME)}, script: ${JSON.stringify(INIT)} })] }] });
`;

let lab: TestLab;
let p: TestProject;
beforeAll(async () => {
  lab = await startHosts({ prefix: "lab-it-model", names: ["fresh1"], subnet: "127.0.35", stateDir: ".lab/it-model" });
  p = await makeProject(labData(lab), {
    groups: { fresh: { hosts: ["fresh1"] } },
    files: { "playbooks/site.ts": SITE },
  });
});
afterAll(async () => {
  await lab?.stop();
});

it("plans the service as known after apply, converges on the first apply, changes nothing on the second", async () => {
  const plan = await p.lab(["plan", "--json"]);
  expect(plan.code, plan.stderr + plan.stdout).toBe(0);
  const planned = JSON.parse(plan.stdout) as JsonReport;
  expect(planned.steps.map((s) => [s.id, s.status, s.changes.map((c) => c.summary)])).toEqual([
    [
      `file:/etc/init.d/${NAME}`,
      "changed",
      [`create /etc/init.d/${NAME} (${Buffer.byteLength(INIT)} bytes)`, "mode (new) -> 0755"],
    ],
    [
      `service:${NAME}`,
      "changed",
      [`known after apply: depends on /etc/init.d/${NAME}, which file:/etc/init.d/${NAME} changes first`],
    ],
    [`handler:restart ${NAME}`, "changed", [`restart ${NAME}`]],
  ]);

  const first = await p.applyJson();
  expect(first.run.code, first.run.stderr + first.run.stdout).toBe(0);
  expect(first.report.steps.map((s) => [s.id, s.status])).toEqual([
    [`file:/etc/init.d/${NAME}`, "changed"],
    [`service:${NAME}`, "changed"],
    [`handler:restart ${NAME}`, "changed"],
  ]);
  expect(first.report.steps[1]!.changes.map((c) => c.summary)).toEqual([`enable ${NAME} at boot`, `start ${NAME}`]);
  const host = lab.hosts[0]!.container;
  expect(
    (await inHost(host, `/etc/init.d/${NAME} status && echo running; ls /etc/rc2.d/ | grep -c ${NAME}`)).stdout.trim(),
  ).toBe("running\n1");

  const second = await p.applyJson();
  expect(second.run.code).toBe(0);
  expect(changedCount(second.report), JSON.stringify(second.report.steps, null, 1)).toBe(0);
  expect(second.report.hosts.fresh1!.roundTrips).toBe(1);
});
