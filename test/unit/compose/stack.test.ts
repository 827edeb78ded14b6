// The composeProject resource end to end over a scripted transport, with Compose v2
// (`docker compose`): read -> diff -> apply, the exact commands it sends, the
// wait that fails at once on an unhealthy service, and the rollback.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { LabError } from "../../../src/errors.ts";
import { Secret } from "../../../src/secrets/secret.ts";
import { composeProject } from "../../../src/resources/compose/stack.ts";
import { repairRecreateCommand } from "../../../src/resources/compose/containers.ts";
import { revisionId, stackFile } from "../../../src/resources/compose/files.ts";
import { FakeTransport } from "../helpers/fake-transport.ts";
import { hostCtx } from "../helpers/host-ctx.ts";

const COMPOSE =
  "services:\n  web:\n    image: lab/busybox:1.35\n    env_file: [app.env]\n  worker:\n    image: lab/busybox:1.35\n";
const TOKEN = "tok-unit-0xSECRET-77aa";
const IMAGE_ID = `sha256:${"2b".repeat(32)}`;
const HASH = { web: "a".repeat(64), worker: "b".repeat(64) };

function want(extra: Partial<Parameters<typeof composeProject>[0]> = {}) {
  return composeProject({
    name: "web",
    compose: COMPOSE,
    files: [stackFile("app.env", new Secret("app_token", `TOKEN=${TOKEN}\n`))],
    pollMs: 1,
    healthyWithin: 5,
    ...extra,
  });
}
const revision = revisionId([
  stackFile("compose.yaml", COMPOSE),
  stackFile("app.env", new Secret("app_token", `TOKEN=${TOKEN}\n`)),
]);

interface Ctr {
  service: string;
  hash: string;
  health?: string;
  status?: string;
  id?: string;
}
const inspect = (cs: Ctr[]) =>
  JSON.stringify(
    cs.map((c, i) => ({
      Id: c.id ?? `${c.service}-${i}`,
      Name: `/web-${c.service}-1`,
      Image: IMAGE_ID,
      Config: {
        Labels: {
          "com.docker.compose.project": "web",
          "com.docker.compose.service": c.service,
          "com.docker.compose.config-hash": c.hash,
          "com.docker.compose.oneoff": "False",
        },
      },
      State: {
        Status: c.status ?? "running",
        ExitCode: 0,
        ...(c.health ? { Health: { Status: c.health, Log: [{ Output: "probe says no\n" }] } } : {}),
      },
    })),
  );

const dirState = (current: string | undefined, cs: Ctr[], files = "") =>
  `current ${current ?? ""}\nprevious \nrevisions ${current ?? ""}\n${files}@@images\nlab/busybox:1.35 ${IMAGE_ID}\n@@containers\n${inspect(cs)}\n`;
const probe = `@@dir\n/tmp/lab-compose.x\n@@valid\n@@hash\nweb ${HASH.web}\nworker ${HASH.worker}\n@@config\nname: web\nservices:\n  web:\n    image: lab/busybox:1.35\n  worker:\n    image: lab/busybox:1.35\n`;

function host(opts: { current?: string; running?: Ctr[]; waits: Ctr[][]; files?: string; probe?: string }) {
  const t = new FakeTransport("docker1");
  let waits = 0;
  t.fact(/docker compose version --short/, { stdout: "plugin 2.24.5\n" });
  t.fact(/^D=/, { stdout: dirState(opts.current, opts.running ?? [], opts.files) });
  t.on((c) => c.includes("@@dir"), { stdout: opts.probe ?? probe });
  t.on(/^T=/, { stdout: probe.replace("@@dir\n/tmp/lab-compose.x\n", "") });
  t.on(/^cat > .*\.lab-probe\.tmp/, {});
  t.on(/\.staging\.XXXXXX/, {});
  t.on(/ln -sfn/, {});
  t.on(/ up -d --remove-orphans$/, {});
  t.on(/^ids=\$\(docker ps -aq/, () => ({
    stdout: inspect(opts.waits[Math.min(waits++, opts.waits.length - 1)] ?? []),
  }));
  t.on(/docker logs --tail 15/, (cmd) => ({
    stdout: `@@logs ${/'?@@logs ([^' ]+)/.exec(cmd)?.[1] ?? ""}\nweb starting\n`,
  }));
  t.on(/config --services$/, { stdout: "web\nworker\n" });
  t.on(/for r in rev-\*/, {});
  t.on(/^rm -rf -- /, {});
  return t;
}

describe("composeProject with Compose v2", () => {
  it("plans a new stack, applies it and waits until ready, with v2 command shapes", async () => {
    const t = host({
      waits: [
        [{ service: "web", hash: HASH.web, health: "starting" }],
        [
          { service: "web", hash: HASH.web, health: "healthy" },
          { service: "worker", hash: HASH.worker },
        ],
      ],
    });
    const ctx = hostCtx({ transport: t });
    const r = want();
    const have = await r.read(ctx);
    expect(have.flavour).toEqual({ kind: "v2", command: "docker compose", version: "2.24.5" });
    const changes = r.diff(r.want, have);
    expect(changes.map((c) => c.summary)).toEqual([
      expect.stringMatching(/^create compose\.yaml \(\d+ bytes, mode 0644\)$/),
      "create app.env (secret content, mode 0600)",
      "create web (image lab/busybox:1.35)",
      "create worker (image lab/busybox:1.35)",
    ]);
    expect(changes[1]!.diff).toBeUndefined();
    await r.apply(ctx, changes, have);
    const dir = `/opt/lab/stacks/web/${revision}`;
    // In the same round trip, first the repair of an interrupted recreate (containers of this project only).
    expect(t.commands).toContain(
      `${repairRecreateCommand("web")}\ndocker compose -p web -f ${dir}/compose.yaml --project-directory ${dir} up -d --remove-orphans`,
    );
    expect(repairRecreateCommand("web")).toContain("--filter label=com.docker.compose.project=web");
    expect(t.commands.some((c) => c.includes(`ln -sfn ${revision} .current.tmp && mv -T .current.tmp current`))).toBe(
      true,
    );
    // The probe ran Compose v2 in a temp dir, never in the stack's directory.
    expect(t.commands.find((c) => c.includes("@@dir"))).toContain(
      `docker compose -p web -f "$T/compose.yaml" --project-directory "$T" config`,
    );
    // Compose's answers for the new current revision are kept in it, for the next run.
    expect(t.calls.find((c) => c.command.startsWith("cat > "))?.stdin).toBe(
      `lab-probe 1 v2 plugin 2.24.5\nservice web ${HASH.web} lab/busybox:1.35\nservice worker ${HASH.worker} lab/busybox:1.35\n`,
    );
    // Files travel on stdin; no command line or log holds the secret.
    for (const c of t.calls) expect(c.command).not.toContain(TOKEN);
    for (const l of ctx.logs) expect(l).not.toContain(TOKEN);
  });

  it("up to date: nothing to do, and says why", async () => {
    const cs = [
      { service: "web", hash: HASH.web, health: "healthy" },
      { service: "worker", hash: HASH.worker },
    ];
    const t = host({
      current: revision,
      running: cs,
      waits: [cs],
      files: `file compose.yaml 644 ${sha(COMPOSE)}\nfile app.env 600 ${sha(`TOKEN=${TOKEN}\n`)}\n`,
    });
    const r = want();
    const have = await r.read(hostCtx({ transport: t }));
    expect(r.diff(r.want, have)).toEqual([]);
    expect(r.ok?.(have)).toBe(`${revision} is current; web healthy, worker running`);
    expect(t.commands.some((c) => c.startsWith(`T=/opt/lab/stacks/web/${revision}`))).toBe(true);
  });

  it("up to date from the revision's cache: no Compose run at all, one round trip", async () => {
    const cs = [
      { service: "web", hash: HASH.web, health: "healthy" },
      { service: "worker", hash: HASH.worker },
    ];
    const cache = `@@cache\nlab-probe 1 v2 plugin 2.24.5\nservice web ${HASH.web} lab/busybox:1.35\nservice worker ${HASH.worker} lab/busybox:1.35\n@@endcache\n`;
    const t = host({
      current: revision,
      running: cs,
      waits: [cs],
      files: `file compose.yaml 644 ${sha(COMPOSE)}\nfile app.env 600 ${sha(`TOKEN=${TOKEN}\n`)}\n${cache}`,
    });
    const r = want();
    const ctx = hostCtx({ transport: t });
    await ctx.facts.prefetch(r.facts!());
    const have = await r.read(ctx);
    expect(r.diff(r.want, have)).toEqual([]);
    expect(t.calls).toHaveLength(1);
    // A cache from another Compose version is not trusted.
    const t2 = host({
      current: revision,
      running: cs,
      waits: [cs],
      files: `file compose.yaml 644 ${sha(COMPOSE)}\nfile app.env 600 ${sha(`TOKEN=${TOKEN}\n`)}\n${cache.replace("2.24.5", "2.20.0")}`,
    });
    await r.read(hostCtx({ transport: t2 }));
    expect(t2.commands.some((c) => c.startsWith("T="))).toBe(true);
  });

  it("an unhealthy service fails at once and the previous revision is brought back", async () => {
    const old = "rev-000000000000";
    const running = [
      { service: "web", hash: "c".repeat(64), health: "healthy" },
      { service: "worker", hash: HASH.worker },
    ];
    const t = host({
      current: old,
      running,
      waits: [
        [
          { service: "web", hash: HASH.web, health: "unhealthy", id: "bad1" },
          { service: "worker", hash: HASH.worker },
        ],
        running,
      ],
    });
    const ctx = hostCtx({ transport: t });
    const r = want({ healthyWithin: 3600 });
    const have = await r.read(ctx);
    const changes = r.diff(r.want, have);
    expect(changes.map((c) => c.summary)).toContain(
      `recreate web: configuration changed (config-hash cccccccccccc -> aaaaaaaaaaaa)`,
    );
    expect(changes.map((c) => c.summary).join("\n")).not.toMatch(/worker/);
    const err = await r.apply(ctx, changes, have).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LabError);
    const msg = (err as LabError).message;
    expect(msg).toContain(`${revision} failed: service web is unhealthy`);
    expect(msg).toContain("probe says no");
    expect(msg).toContain("web starting");
    expect(msg).toContain(`rolled back: ${old} is the current revision again`);
    const oldDir = `/opt/lab/stacks/web/${old}`;
    expect(t.commands).toContain(
      `${repairRecreateCommand("web")}\ndocker compose -p web -f ${oldDir}/compose.yaml --project-directory ${oldDir} up -d --remove-orphans`,
    );
    expect(t.commands).toContain(`rm -rf -- /opt/lab/stacks/web/${revision}`);
  });

  it("rollback off: says so and leaves the failed revision", async () => {
    const old = "rev-000000000000";
    const t = host({ current: old, running: [], waits: [[{ service: "web", hash: HASH.web, status: "exited" }]] });
    const ctx = hostCtx({ transport: t });
    const r = want({ rollback: false });
    const have = await r.read(ctx);
    await expect(r.apply(ctx, r.diff(r.want, have), have)).rejects.toThrow(
      /service web is exited \(exit code 0\)[\s\S]*rollback is off/,
    );
    expect(t.commands.filter((c) => c.includes("up -d"))).toHaveLength(1);
  });

  it("times out with what is still pending", async () => {
    const t = host({ waits: [[{ service: "web", hash: HASH.web, health: "starting" }]] });
    const ctx = hostCtx({ transport: t });
    const r = want({ healthyWithin: 0.05 as unknown as number });
    const have = await r.read(ctx);
    await expect(r.apply(ctx, r.diff(r.want, have), have)).rejects.toThrow(
      /not ready within 0 s \(web: health: starting; worker: no container\)[\s\S]*nothing to roll back to/,
    );
  });

  it("an interrupt while services are still starting stops waiting and rolls nothing back (exit 130, not failed)", async () => {
    const old = "rev-000000000000";
    const starting = [
      { service: "web", hash: HASH.web, health: "starting" },
      { service: "worker", hash: HASH.worker },
    ];
    const t = host({ current: old, running: [], waits: [starting] });
    const ctx = hostCtx({ transport: t });
    const r = want({ healthyWithin: 3600, pollMs: 20 });
    const have = await r.read(ctx);
    const applied = r.apply(ctx, r.diff(r.want, have), have).then(
      () => undefined,
      (e: unknown) => e,
    );
    setTimeout(() => ctx.abort.abort(), 100);
    const err = await applied;
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).code).toBe(130);
    expect((err as LabError).message).toContain(
      `interrupted while ${revision} was starting; it is left running, not rolled back`,
    );
    expect((err as LabError).message).not.toMatch(/ROLLBACK|rolled back:/);
    expect(t.commands.filter((c) => c.includes("up -d"))).toHaveLength(1);
    expect(t.commands.some((c) => c.includes(`ln -sfn ${old} .current.tmp`))).toBe(false);
    expect(t.commands.some((c) => c.startsWith("rm -rf -- "))).toBe(false);
  });

  it("every replica of a service is checked: a second replica that is unhealthy fails the wait, one still starting keeps it waiting", async () => {
    const healthy = { service: "web", hash: HASH.web, health: "healthy", id: "web-a" };
    const worker = { service: "worker", hash: HASH.worker, id: "worker-a" };
    const bad = host({
      waits: [[healthy, { service: "web", hash: HASH.web, health: "unhealthy", id: "web-b" }, worker]],
    });
    const ctx = hostCtx({ transport: bad });
    const r = want({ healthyWithin: 3600 });
    const have = await r.read(ctx);
    await expect(r.apply(ctx, r.diff(r.want, have), have)).rejects.toThrow(/service web is unhealthy/);

    const slow = host({
      waits: [
        [healthy, { service: "web", hash: HASH.web, health: "starting", id: "web-b" }, worker],
        [healthy, { ...healthy, id: "web-b" }, worker],
      ],
    });
    const ctx2 = hostCtx({ transport: slow });
    const have2 = await r.read(ctx2);
    await r.apply(ctx2, r.diff(r.want, have2), have2);
    expect(slow.commands.filter((c) => c.startsWith("ids=$(docker ps -aq"))).toHaveLength(2);
  });

  it("refuses a file Compose rejects, before anything is uploaded", async () => {
    const t = host({
      waits: [],
      probe: "@@dir\n/tmp/x\n@@invalid\nservices.web Additional property imagez is not allowed\n",
    });
    const r = want();
    await expect(r.read(hostCtx({ transport: t }))).rejects.toThrow(
      /Compose refuses the compose file; nothing was uploaded:\n\s+services.web Additional property imagez/,
    );
    expect(t.commands.some((c) => c.includes(".staging."))).toBe(false);
  });

  it("rejects bad names", () => {
    expect(() => composeProject({ name: "Web App", compose: "" })).toThrow(/not a valid Compose project name/);
    expect(() => stackFile("../etc/passwd", "x")).toThrow(/not a plain relative path/);
    expect(() => composeProject({ name: "x", compose: "", files: [stackFile("compose.yaml", "y")] })).toThrow(
      /given twice/,
    );
  });
});

function sha(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
