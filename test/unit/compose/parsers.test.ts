// Compose command shapes and output parsers, v1 from recorded outputs, v2 from
// hand-written ones in v2's format (test/fixtures/compose/README.md says which is which).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseContainers, readiness } from "../../../src/resources/compose/containers.ts";
import { parseConfig, parseHashes, parseProbe } from "../../../src/resources/compose/desired.ts";
import {
  composeCommand,
  composeFact,
  parseFlavour,
  type ComposeFlavour,
} from "../../../src/resources/compose/flavour.ts";
import { normalizeImage, parseStackDir } from "../../../src/resources/compose/state.ts";
import { FIXTURES } from "../helpers/fixtures.ts";

const fixture = (p: string) => readFileSync(join(FIXTURES, "compose", p), "utf8");
const V1: ComposeFlavour = { kind: "v1", command: "docker-compose", version: "1.29.2" };
const V2: ComposeFlavour = { kind: "v2", command: "docker compose", version: "2.24.5" };

describe("flavour", () => {
  it.each([
    ["standalone 1.29.2\n", { kind: "v1", command: "docker-compose", version: "1.29.2" }],
    [`plugin ${fixture("v2/version.txt")}`, { kind: "v2", command: "docker compose", version: "2.24.5" }],
    ["plugin v2.20.3\n", { kind: "v2", command: "docker compose", version: "2.20.3" }],
    ["standalone 2.24.5\n", { kind: "v2", command: "docker-compose", version: "2.24.5" }],
    ["none\n", { kind: "none", command: "", version: "" }],
    ["", { kind: "none", command: "", version: "" }],
  ])("%j", (out, want) => expect(parseFlavour(out)).toEqual(want));

  it("prefers the v2 plugin, then docker-compose", () => {
    expect(composeFact.command.indexOf("docker compose version")).toBeLessThan(
      composeFact.command.indexOf("docker-compose version"),
    );
  });

  it("builds the same command for both, with the v2 plugin as `docker compose`", () => {
    const ref = { project: "wiki", dir: "/opt/lab/stacks/wiki/rev-0123456789ab" };
    expect(composeCommand(V1, ref, ["up", "-d", "--remove-orphans"])).toBe(
      "docker-compose -p wiki -f /opt/lab/stacks/wiki/rev-0123456789ab/compose.yaml --project-directory /opt/lab/stacks/wiki/rev-0123456789ab up -d --remove-orphans",
    );
    expect(composeCommand(V2, ref, ["config", "--hash=*"])).toBe(
      "docker compose -p wiki -f /opt/lab/stacks/wiki/rev-0123456789ab/compose.yaml --project-directory /opt/lab/stacks/wiki/rev-0123456789ab config '--hash=*'",
    );
    // Values stay data, whatever they hold.
    expect(composeCommand(V2, { project: "p", dir: "/x/$(reboot)" }, ["up"])).toContain("'/x/$(reboot)/compose.yaml'");
    expect(() => composeCommand({ kind: "none", command: "", version: "" }, ref, ["up"])).toThrow(
      /neither `docker compose`/,
    );
  });
});

describe("config --hash", () => {
  it("v1 (recorded)", () => {
    const h = parseHashes(fixture("v1/config-hash.txt"));
    expect(Object.keys(h)).toEqual(["good", "sick", "plain", "crash"]);
    expect(h.good).toMatch(/^[0-9a-f]{64}$/);
  });
  it("v2", () => {
    expect(parseHashes(fixture("v2/config-hash.txt"))).toEqual({
      good: "8f3c2a9d1b7e4f60a5c2d8e1b3f7a9c4d6e8f0a2b4c6d8e0f1a3b5c7d9e1f3a5",
      plain: "1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3",
    });
  });
  it("skips services whose hash Compose could not compute", () => {
    expect(parseHashes("web ?\nWARNING: x\n")).toEqual({});
  });
});

describe("config", () => {
  it("v1 (recorded): services and images", () => {
    const c = parseConfig(fixture("v1/config.yaml"));
    expect(Object.keys(c).sort()).toEqual(["crash", "good", "plain", "sick"]);
    expect(c.good?.image).toBe("lab/busybox:1.35");
  });
  it("v2: name, long volume syntax; a service naming the temp dir is path-dependent", () => {
    const out = `@@dir\n/tmp/lab-compose.Ab12Cd\n@@valid\n@@hash\n${fixture("v2/config-hash.txt")}@@config\n${fixture("v2/config.yaml")}`;
    const d = parseProbe(out);
    expect(d.invalid).toBeUndefined();
    expect(d.services.good).toMatchObject({ image: "lab/busybox:1.35", pathDependent: true });
    expect(d.services.plain).toMatchObject({ image: "docker.io/library/busybox", pathDependent: false });
    expect(d.services.plain?.hash).toMatch(/^1e2d/);
  });
  it("an invalid file gives Compose's message and no services", () => {
    const d = parseProbe(
      "@@dir\n/tmp/x\n@@invalid\nERROR: The Compose file './compose.yaml' is invalid because:\nservices.worker.ports contains an invalid type, it should be an array\n",
    );
    expect(d.invalid).toMatch(/ports contains an invalid type/);
    expect(d.services).toEqual({});
  });
});

describe("containers", () => {
  it("v1 (recorded): healthy, unhealthy (with its health log), running, exited", () => {
    const cs = parseContainers(fixture("v1/inspect.json"));
    const by = Object.fromEntries(cs.map((c) => [c.service, c]));
    expect(cs.map((c) => c.service)).toEqual(["crash", "good", "plain", "sick"]);
    expect(readiness(by.good!)).toEqual({ ready: true, what: "healthy" });
    expect(readiness(by.plain!)).toEqual({ ready: true, what: "running" });
    expect(readiness(by.sick!)).toEqual({ ready: false, failed: true, what: "unhealthy" });
    expect(by.sick!.healthLog.at(-1)).toBe("probe says no");
    expect(readiness(by.crash!)).toEqual({ ready: false, failed: true, what: "exited (exit code 3)" });
    expect(by.good!.configHash).toBe(parseHashes(fixture("v1/config-hash.txt")).good);
    expect(by.good!.image).toMatch(/^sha256:/);
  });
  it("v2: same labels; one-off `run` containers are not the service's", () => {
    const cs = parseContainers(fixture("v2/inspect.json"));
    expect(cs.map((c) => c.name)).toEqual(["labit-rec-good-1", "labit-rec-sick-1"]);
  });
  it("starting and restarting", () => {
    const base = { id: "x", name: "n", service: "s", configHash: "", image: "", exitCode: 1, healthLog: [] };
    expect(readiness({ ...base, status: "running", health: "starting" })).toEqual({
      ready: false,
      failed: false,
      what: "health: starting",
    });
    expect(readiness({ ...base, status: "restarting" })).toMatchObject({ ready: false, failed: true });
    expect(readiness({ ...base, status: "created" })).toMatchObject({ ready: false, failed: false });
  });
  it("no containers", () => expect(parseContainers("[]\n")).toEqual([]));
});

describe("stack directory fact", () => {
  it("parses links, files, contents, images and containers", () => {
    const out = [
      "current rev-0123456789ab",
      "previous rev-ba9876543210",
      "revisions rev-0123456789ab rev-ba9876543210",
      `file compose.yaml 644 ${"a".repeat(64)}`,
      `file app.env 600 ${"b".repeat(64)}`,
      `content compose.yaml ${Buffer.from("services: {}\n").toString("base64")}`,
      "@@cache",
      "lab-probe 1 v1 standalone 1.29.2",
      `service web ${"c".repeat(64)} lab/busybox:1.35`,
      "@@endcache",
      "@@images",
      "lab/busybox:1.35 sha256:2b39",
      "<none>:<none> sha256:dead",
      "@@containers",
      fixture("v1/inspect.json"),
    ].join("\n");
    const s = parseStackDir(out);
    expect(s).toMatchObject({
      current: "rev-0123456789ab",
      previous: "rev-ba9876543210",
      revisions: ["rev-0123456789ab", "rev-ba9876543210"],
      dockerDown: false,
    });
    expect(s.files["compose.yaml"]).toEqual({ mode: "0644", sha256: "a".repeat(64), content: "services: {}\n" });
    expect(s.files["app.env"]).toEqual({ mode: "0600", sha256: "b".repeat(64) });
    expect(s.images).toEqual({ "lab/busybox:1.35": "sha256:2b39" });
    expect(s.cache).toBe(`lab-probe 1 v1 standalone 1.29.2\nservice web ${"c".repeat(64)} lab/busybox:1.35\n`);
    expect(s.containers).toHaveLength(4);
  });
  it("a new host: no links, no revisions", () => {
    expect(parseStackDir("current \nprevious \nrevisions\n@@images\n@@containers\n[]\n")).toMatchObject({
      revisions: [],
      files: {},
      containers: [],
    });
    expect(parseStackDir("current \n@@images\n@@docker-error\n@@containers\n@@docker-error\n").dockerDown).toBe(true);
  });
  it.each([
    ["nginx", "nginx:latest"],
    ["docker.io/library/nginx:1.25", "nginx:1.25"],
    ["lab/busybox:1.35", "lab/busybox:1.35"],
    ["registry.local:5000/x/y", "registry.local:5000/x/y:latest"],
    ["a/b@sha256:00", "a/b@sha256:00"],
  ])("image %s -> %s", (ref, want) => expect(normalizeImage(ref)).toBe(want));
});
