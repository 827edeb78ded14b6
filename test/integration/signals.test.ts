// Against a real test host (sshd + the docker CLI on this machine's engine):
// SIGINT during a Compose health wait (no rollback, the stack reported
// interrupted), a failing sysv start with its output, and the states that had
// no apply-twice test (absent users/groups/lines/blocks, a stopped and disabled
// service, attributes only, command with removes/unless).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAudit } from "../../src/engine/audit.ts";
import { LAB_BIN, REPO, changedCount, inHost, makeProject, type TestProject } from "./project.ts";
import { containers, startDockerHost, type DockerLab } from "./compose-harness.ts";

const STACK = "labit-signals";
let dl: DockerLab;
let p: TestProject;
const host = () => dl.lab.hosts[0]!;
const onHost = async (script: string) => (await inHost(host().container, script)).stdout.trim();

// stage 1: no healthcheck (running is ready). stage 2: a healthcheck whose first probe is an hour away,
// so the service stays "starting": nothing fails, it is just not ready yet.
const COMPOSE_PLAYBOOK = (root: string) => `
import { definePlaybook } from "@lab";
import { composeStack } from "${join(REPO, "roles/compose-stack.ts")}";
export default definePlaybook({ name: "stack", plays: [{ name: "stack", hosts: "docker1", roles: (h) => [composeStack({
  name: "${STACK}", root: ${JSON.stringify(root)}, healthyWithin: 600,
  definition: { services: { app: {
    image: "lab/busybox:1.35", command: ["sleep", "100000"],
    ...(String(h.vars.stage) === "2" ? { healthcheck: { test: ["CMD", "true"], interval: "1h", start_period: "1h" } } : {}),
  } } },
})] }] });
`;

const INIT_SCRIPT = (name: string, start: string) => `#!/bin/sh
### BEGIN INIT INFO
# Provides: ${name}
# Required-Start:
# Required-Stop:
# Default-Start: 2 3 4 5
# Default-Stop: 0 1 6
### END INIT INFO
P=/run/${name}.pid
case "$1" in
  start) ${start} ;;
  stop) start-stop-daemon --stop --quiet --pidfile $P --remove-pidfile --oknodo ;;
  status) start-stop-daemon --status --pidfile $P ;;
  restart) "$0" stop; "$0" start ;;
esac
`;

const STATES_PLAYBOOK = `
import { definePlaybook, inline, user, group, service, line, block, file, command } from "@lab";
export default definePlaybook({ name: "states", plays: [{ name: "states", hosts: "docker1", roles: () => [inline([
  user({ name: "labgone", state: "absent" }),
  group({ name: "labgonegrp", state: "absent" }),
  service({ name: "labsvc", state: "stopped", enabled: false }),
  line({ path: "/srv/sig/conf", line: "remove me", state: "absent" }),
  block({ path: "/srv/sig/conf", block: "old block", state: "absent" }),
  file({ path: "/srv/sig/attrs", mode: "0600", owner: "nobody" }),
  command({ command: "rm /srv/sig/flag && touch /srv/sig/removed-ran", removes: "/srv/sig/flag" }),
  command({ command: "touch /srv/sig/unless-ran", unless: "test -e /srv/sig/unless-ran" }),
])] }] });
`;

beforeAll(async () => {
  dl = await startDockerHost({ prefix: "lab-it-signals", subnet: "127.0.32", projects: [STACK] });
  p = await makeProject(dl.lab, {
    groups: { docker_hosts: { hosts: ["docker1"] } },
    files: {
      "playbooks/stack.ts": COMPOSE_PLAYBOOK(dl.stacksRoot),
      "playbooks/states.ts": STATES_PLAYBOOK,
      "playbooks/failing-start.ts": `
import { definePlaybook, inline, service } from "@lab";
export default definePlaybook({ name: "f", plays: [{ name: "f", hosts: "docker1", roles: () => [inline([service({ name: "labfail", state: "started" })])] }] });
`,
    },
  });
}, 900_000);

afterAll(async () => {
  await dl?.stop();
});

describe("interrupts and states against a real host", { timeout: 600_000 }, () => {
  it("SIGINT during a Compose health wait: stops waiting, rolls nothing back, reports the stack interrupted (exit 130), audit record", async () => {
    const first = await p.applyJson(["playbooks/stack.ts", "-e", "stage=1"]);
    expect(first.run.code, first.run.stderr).toBe(0);
    const v1 = await onHost(`readlink ${dl.stacksRoot}/${STACK}/current`);

    const child = spawn("node", [LAB_BIN, "-C", p.root, "apply", "-y", "playbooks/stack.ts", "-e", "stage=2"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<number | null>((r) => child.on("close", r));
    // Wait until the new container is up and "starting" (lab is in its health wait), then interrupt.
    const deadline = Date.now() + 300_000;
    while (!(await containers(STACK)).some((c) => c.health === "starting")) {
      if (Date.now() > deadline) throw new Error(`the new revision never started:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 1500));
    child.kill("SIGINT");
    const code = await done;
    expect(code, stdout + stderr).toBe(130);
    expect(stdout).toMatch(
      /interrupted while rev-[0-9a-f]{12} was starting; it is left running, not rolled back \(nothing was seen to fail\)/,
    );
    expect(stdout).toContain("INTERRUPTED");
    expect(stdout + stderr).not.toMatch(/ROLLBACK|rolled back:/);
    expect(stdout).toMatch(/docker1\s+: ok=\d+ changed=1 failed=0/);
    const v2 = await onHost(`readlink ${dl.stacksRoot}/${STACK}/current`);
    expect(v2).not.toBe(v1);
    expect((await containers(STACK)).map((c) => c.health)).toEqual(["starting"]);
    expect((await readAudit({ root: p.root })).at(-1)).toMatchObject({ outcome: "interrupted", exitCode: 130 });
    // Nothing secret or staged is left outside the stack's directory.
    expect(await onHost("ls -d /tmp/lab-compose.* 2>/dev/null | wc -l")).toBe("0");

    // Back to stage 1 converges; once more changes nothing.
    expect((await p.applyJson(["playbooks/stack.ts", "-e", "stage=1"])).run.code).toBe(0);
    expect(changedCount((await p.applyJson(["playbooks/stack.ts", "-e", "stage=1"])).report)).toBe(0);
  });

  it("a failing sysv start is a failed step carrying the init script's output", async () => {
    await onHost(`cat > /etc/init.d/labfail <<'EOF'
${INIT_SCRIPT("labfail", 'echo "labfail: cannot bind to port 80: address in use" >&2; exit 1')}
EOF
chmod 0755 /etc/init.d/labfail`);
    try {
      const r = await p.applyJson(["playbooks/failing-start.ts"]);
      expect(r.run.code).toBe(3);
      const step = r.report.steps.find((s) => s.id === "service:labfail")!;
      expect(step.status).toBe("failed");
      expect(step.reason).toContain("start labfail failed (exit 1)");
      expect(step.reason).toContain("labfail: cannot bind to port 80: address in use");
    } finally {
      await onHost("rm -f /etc/init.d/labfail");
    }
  });

  it("absent users/groups/lines/blocks, a stopped+disabled service, attributes only, removes/unless: the first apply changes, the second nothing", async () => {
    await onHost(`set -e
userdel labgone 2>/dev/null || true; groupdel labgonegrp 2>/dev/null || true
useradd labgone; groupadd labgonegrp
mkdir -p /srv/sig; rm -f /srv/sig/*
printf 'keep\\nremove me\\n# BEGIN MANAGED BY lab\\nold block\\n# END MANAGED BY lab\\ntail\\n' > /srv/sig/conf
printf 'data\\n' > /srv/sig/attrs; chmod 0644 /srv/sig/attrs
touch /srv/sig/flag
cat > /etc/init.d/labsvc <<'EOF'
${INIT_SCRIPT("labsvc", "start-stop-daemon --start --quiet --background --make-pidfile --pidfile $P --exec /bin/sleep -- 100000")}
EOF
chmod 0755 /etc/init.d/labsvc; update-rc.d labsvc defaults >/dev/null 2>&1; update-rc.d labsvc enable >/dev/null 2>&1
/etc/init.d/labsvc start`);
    try {
      const first = await p.applyJson(["playbooks/states.ts"]);
      expect(first.run.code, first.run.stderr + first.run.stdout).toBe(0);
      const changed = first.report.steps
        .filter((s) => s.status === "changed")
        .map((s) => s.id)
        .sort();
      expect(changed).toEqual(
        [
          "block:/srv/sig/conf:lab",
          "command:rm /srv/sig/flag && touch /srv/sig/removed-ran",
          "command:touch /srv/sig/unless-ran",
          "file:/srv/sig/attrs",
          "group:labgonegrp",
          "line:/srv/sig/conf:remove me",
          "service:labsvc",
          "user:labgone",
        ].sort(),
      );
      expect(await onHost("getent passwd labgone; getent group labgonegrp; echo end")).toBe("end");
      // Disabled: no start link left in runlevel 2 (update-rc.d turns it into a K link).
      expect(
        await onHost(
          "/etc/init.d/labsvc status >/dev/null && echo running || echo stopped; ls /etc/rc2.d/S??labsvc 2>/dev/null | wc -l",
        ),
      ).toBe("stopped\n0");
      expect(await onHost("cat /srv/sig/conf")).toBe("keep\ntail");
      expect(await onHost("stat -c '%a %U' /srv/sig/attrs; cat /srv/sig/attrs")).toBe("600 nobody\ndata");
      expect(await onHost("ls /srv/sig | sort | tr '\\n' ' '")).toBe("attrs conf removed-ran unless-ran");

      const second = await p.applyJson(["playbooks/states.ts"]);
      expect(second.run.code).toBe(0);
      expect(changedCount(second.report)).toBe(0);
    } finally {
      await onHost(
        "/etc/init.d/labsvc stop; update-rc.d -f labsvc remove; rm -rf /etc/init.d/labsvc /srv/sig; userdel labgone; groupdel labgonegrp; true",
      );
    }
  });
});
