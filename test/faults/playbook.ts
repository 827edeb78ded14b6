// The fault playbook: real changes every round on every kind of target.
//   play "pve" (group proxmox): bridge, SDN and firewall on the simulator (VLAN tags per round);
//   play "files" (group plain): a 10 MiB file, a secret file, a config that notifies
//     a service restart, a package from a local apt repo (installed/removed by round),
//     the service itself (sysv init script: the test hosts have no systemd);
//   play "stack" (group docker): a Compose stack whose env (and secret) change per round.
// The round comes from `-e round=N`; the content functions are shared with the invariants.
import { join } from "node:path";
import { REPO } from "../integration/project.ts";

export const INIT_SCRIPT = `#!/bin/sh
# labfaultd: a tiny daemon for the fault-injection suite.
P=/run/labfaultd.pid
case "$1" in
  start) start-stop-daemon --start --quiet --background --make-pidfile --pidfile $P --exec /bin/sleep -- 1000000 || true ;;
  stop) start-stop-daemon --stop --quiet --oknodo --remove-pidfile --pidfile $P ;;
  restart) "$0" stop; "$0" start ;;
  status) start-stop-daemon --status --pidfile $P ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 3 ;;
esac
`;

export function faultPlaybook(stacksRoot: string): string {
  const content = join(REPO, "test/faults/content.ts");
  return `
import { definePlaybook, defineRole, directory, file, packages, service, restartService, Secret, Type } from "@lab";
import { composeStack } from "${join(REPO, "roles/compose-stack.ts")}";
import { proxmoxLab } from "${join(REPO, "roles/proxmox-lab.ts")}";
import { BIG_PATH, SECRET_PATH, CONFIG_PATH, SERVICE, PACKAGE, STACK, bigContent, configContent, secretContent, secretName } from "${content}";

const roundOf = (h: { vars: Record<string, unknown> }) => Number(h.vars.round ?? 0);
const files = defineRole({
  name: "fault-files",
  vars: Type.Object({ round: Type.Integer() }, { additionalProperties: false }),
  resources: ({ round }, _h, lab) => {
    const secret = lab.secret(secretName(round));
    return {
      resources: [
        directory({ path: "/srv/faults/big" }),
        directory({ path: "/srv/faults/app" }),
        file({ path: "/etc/apt/sources.list.d/lab-faults.list", content: "deb [trusted=yes] file:/srv/lab-repo ./\\n" }),
        packages({ names: [PACKAGE], state: round % 2 ? "absent" : "present", updateCache: true }),
        file({ path: BIG_PATH, content: bigContent(round) }),
        file({ path: SECRET_PATH, content: new Secret(secret.name, secretContent(secret.reveal(), round)) }),
        file({ path: "/etc/init.d/" + SERVICE, content: ${JSON.stringify(INIT_SCRIPT)}, mode: "0755" }),
        file({ path: CONFIG_PATH, content: configContent(round) }, { notify: ["restart " + SERVICE] }),
        service({ name: SERVICE, state: "started" }),
      ],
      handlers: [restartService(SERVICE)],
    };
  },
});
export default definePlaybook({ name: "faults", plays: [
  { name: "pve", hosts: "proxmox", roles: (h) => [proxmoxLab({ endpoint: h.name })] },
  { name: "files", hosts: "plain", roles: (h) => [files({ round: roundOf(h) })] },
  { name: "stack", hosts: "docker", roles: (h) => {
    const round = roundOf(h);
    return [composeStack({
      name: STACK,
      root: ${JSON.stringify(stacksRoot)},
      healthyWithin: 120,
      env: { "app.env": { ROUND: String(round), TOKEN: { secret: secretName(round) } } },
      definition: { services: { app: {
        image: "lab/busybox:1.35",
        command: ["sh", "-c", "touch /tmp/ready; exec sleep 100000"],
        env_file: ["app.env"],
        healthcheck: { test: ["CMD", "test", "-e", "/tmp/ready"], interval: "1s", retries: 5 },
      } } },
    })];
  } },
] });
`;
}
