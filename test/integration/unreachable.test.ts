// A host whose sshd dies mid-run is reported unreachable; the other hosts finish;
// the exit code says so.
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { startHosts, type TestLab, type TestLabData } from "../hosts/hosts.ts";
import { inHost, makeProject, type TestProject } from "./project.ts";

let shared: TestLabData;
let flaky: TestLab;
let p: TestProject;

beforeAll(async () => {
  shared = inject("testLab");
  flaky = await startHosts({ prefix: "lab-it-flaky", names: ["flaky"], subnet: "127.0.12", stateDir: ".lab/it-flaky" });
  const web1 = shared.hosts.find((h) => h.name === "web1")!;
  await inHost(web1.container, "rm -rf /srv/unreach");
  // Two labs, two key pairs: the flaky host gets its own key and known_hosts.
  p = await makeProject(shared, {
    hosts: {
      flaky: {
        address: flaky.hosts[0]!.address,
        port: flaky.hosts[0]!.port,
        key_file: flaky.keyFile,
        known_hosts: flaky.knownHostsFile,
      },
    },
    groups: { pair: { hosts: ["web1", "flaky"] } },
    files: {
      "playbooks/slow.ts": `
import { definePlaybook, inline, directory, file, command } from "@lab";
export default definePlaybook({
  name: "slow",
  plays: [{
    name: "slow", hosts: "pair",
    roles: () => [inline([
      directory({ path: "/srv/unreach" }),
      command({ command: "touch /srv/unreach/started && sleep 4 && touch /srv/unreach/done", creates: "/srv/unreach/done" }),
      file({ path: "/srv/unreach/after", content: "finished\\n" }),
    ])],
  }],
});
`,
    },
  });
}, 120_000);

afterAll(async () => {
  await flaky?.stop();
});

it("reports the dead host unreachable and converges the other", async () => {
  const running = p.applyJson(["playbooks/slow.ts", "--forks", "2"]);
  // Kill the flaky host once its slow step has started.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await inHost(flaky.hosts[0]!.container, "test -e /srv/unreach/started && echo yes")).stdout.trim() === "yes")
      break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await flaky.stopHost("flaky");
  const { run, report } = await running;
  expect(run.code).toBe(4);
  expect(report.hosts.flaky!.status).toBe("unreachable");
  expect(report.hosts.web1!.status).toBe("changed");
  expect(report.hosts.web1!.failed).toBe(0);
  const skipped = report.steps.filter((s) => s.host === "flaky" && s.status === "skipped");
  expect(skipped.map((s) => s.id)).toEqual(["file:/srv/unreach/after"]);
  const web1 = shared.hosts.find((h) => h.name === "web1")!;
  expect((await inHost(web1.container, "cat /srv/unreach/after")).stdout).toBe("finished\n");
});
