// The plan of a stack, pure: state in, change lines out.
import { describe, expect, it } from "vitest";
import { stackDiff, type StackPlanInput } from "../../../src/resources/compose/diff.ts";
import { fileSha, stackFile } from "../../../src/resources/compose/files.ts";
import type { ContainerState } from "../../../src/resources/compose/containers.ts";

const compose = stackFile("compose.yaml", "services: {}\n");
const conf = stackFile("app.conf", "a=1\n");
const H = "1".repeat(64);
const IMG = `sha256:${"a".repeat(64)}`;
const ctr = (service: string, over: Partial<ContainerState> = {}): ContainerState => ({
  id: `${service}1`,
  name: `p_${service}_1`,
  service,
  configHash: H,
  image: IMG,
  status: "running",
  exitCode: 0,
  healthLog: [],
  ...over,
});

function input(over: Partial<StackPlanInput> = {}): StackPlanInput {
  return {
    dir: "/opt/lab/stacks/p",
    revision: "rev-aaaaaaaaaaaa",
    files: [compose, conf],
    state: {
      current: "rev-aaaaaaaaaaaa",
      revisions: ["rev-aaaaaaaaaaaa"],
      dockerDown: false,
      files: {
        "compose.yaml": { mode: "0644", sha256: fileSha(compose) },
        "app.conf": { mode: "0644", sha256: fileSha(conf), content: "a=1\n" },
      },
      images: { "lab/x:1": IMG },
      containers: [ctr("web"), ctr("db", { health: "healthy" })],
    },
    desired: {
      services: {
        web: { hash: H, pathDependent: false, image: "lab/x:1" },
        db: { hash: H, pathDependent: false, image: "lab/x:1" },
      },
    },
    ...over,
  };
}
const lines = (p: StackPlanInput) => stackDiff(p).map((c) => c.summary);

describe("stack plan", () => {
  it("nothing for an up-to-date stack", () => expect(stackDiff(input())).toEqual([]));

  it("a changed config file: its diff, and the services that mount it", () => {
    const conf2 = stackFile("app.conf", "a=2\n");
    const p = input({ files: [compose, conf2], revision: "rev-bbbbbbbbbbbb" });
    p.desired.services.web!.pathDependent = true;
    const changes = stackDiff(p);
    expect(changes.map((c) => c.summary)).toEqual([
      "update app.conf (4 bytes)",
      "recreate web: it mounts files from the stack directory, which moves to rev-bbbbbbbbbbbb",
    ]);
    expect(changes[0]!.diff).toContain("-a=1\n+a=2");
  });

  it("an image rebuilt under the same tag recreates its services", () => {
    const p = input();
    p.state.images["lab/x:1"] = `sha256:${"b".repeat(64)}`;
    expect(lines(p)).toEqual([
      "recreate web: image lab/x:1 changed (aaaaaaaaaaaa -> bbbbbbbbbbbb)",
      "recreate db: image lab/x:1 changed (aaaaaaaaaaaa -> bbbbbbbbbbbb)",
    ]);
  });

  it("a missing image, a missing container, an orphan, an exited and an unhealthy service", () => {
    const p = input();
    p.desired.services.cache = { pathDependent: false, image: "redis:7" };
    p.desired.services.queue = { hash: H, pathDependent: false, image: "lab/x:1" };
    p.state.containers = [
      ctr("web", { status: "exited", exitCode: 137 }),
      ctr("db", { health: "unhealthy" }),
      ctr("old"),
    ];
    expect(lines(p)).toEqual([
      "web is exited (exit code 137): bring it up and wait until it is ready",
      "db is unhealthy: bring it up and wait until it is ready",
      "create cache: image redis:7 is not on the host (Compose would pull or build it)",
      "create queue (image lab/x:1)",
      "remove orphan service old (no longer in the compose file)",
    ]);
  });

  it("a removed file, a mode change, and a secret file never diffed", () => {
    const secret = stackFile("db.env", "PASSWORD=x\n", { secret: true });
    const p = input({ files: [compose, stackFile("app.conf", "a=1\n", { mode: "0640" }), secret] });
    p.state.files["db.env"] = { mode: "0600", sha256: "0".repeat(64) };
    p.state.files["stale.txt"] = { mode: "0644", sha256: "0".repeat(64) };
    const changes = stackDiff(p);
    expect(changes.map((c) => c.summary)).toEqual([
      "mode of app.conf 0644 -> 0640",
      "update db.env (secret content)",
      "remove stale.txt (no longer part of the stack)",
    ]);
    expect(changes.every((c) => !c.diff)).toBe(true);
  });

  it("a config hash change names both hashes", () => {
    const p = input();
    p.desired.services.db!.hash = "2".repeat(64);
    expect(lines(p)).toEqual(["recreate db: configuration changed (config-hash 111111111111 -> 222222222222)"]);
  });
});
