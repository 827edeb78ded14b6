// The probes of a restored VM: SSH command (exit and exact output), HTTP health
// URL (status, body, the guest's address filled in) against a real server on
// loopback, Compose stack healthy; each retried until it passes or times out.
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProbe, type ProbeEnv } from "../../../src/drill/vm-probes.ts";
import type { ExecResult, Transport } from "../../../src/transport/types.ts";

/** A guest whose commands answer from a script of replies (the last one repeats). */
const fakeGuest = (replies: ExecResult[]): Transport & { commands: string[] } => {
  const commands: string[] = [];
  return {
    host: "copy",
    commands,
    exec: (cmd) => (commands.push(cmd), Promise.resolve(replies[Math.min(commands.length - 1, replies.length - 1)]!)),
    close: () => Promise.resolve(),
  };
};
const envWith = (guest: Transport, address = "127.0.0.1"): ProbeEnv => ({
  signal: new AbortController().signal,
  address,
  guest: () => Promise.resolve(guest),
});
const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: "" });

let server: Server;
let port = 0;
let hits = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    hits++;
    if (req.url === "/health") return void res.writeHead(hits < 3 ? 503 : 200).end("status: ok");
    res.writeHead(404).end("no");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as { port: number }).port;
});
afterAll(() => server?.close());

describe("VM drill probes", () => {
  it("ssh: passes on exit 0 and the exact output; says what it printed otherwise", async () => {
    const g = fakeGuest([ok("written before the backup\n")]);
    expect(
      await runProbe(envWith(g), { name: "data", ssh: "cat /root/marker", expect: "written before the backup" }),
    ).toEqual({ name: "ssh: data", ok: true, detail: 'printed "written before the backup"' });
    expect(g.commands).toEqual(["cat /root/marker"]);
    const wrong = await runProbe(envWith(fakeGuest([ok("other\n")])), {
      name: "data",
      ssh: "cat /root/marker",
      expect: "x",
      timeout: "1s",
    });
    expect(wrong).toEqual({ name: "ssh: data", ok: false, detail: 'printed "other", expected "x"' });
    const failing = fakeGuest([{ code: 1, stdout: "", stderr: "cat: /root/x: No such file or directory\n" }]);
    expect(await runProbe(envWith(failing), { name: "f", ssh: "cat /root/x", timeout: "2s" })).toEqual({
      name: "ssh: f",
      ok: false,
      detail: "exit 1: cat: /root/x: No such file or directory",
    });
    expect(failing.commands.length).toBeGreaterThan(1); // retried within its timeout
  });

  it("ssh: a guest that comes up late passes once it answers", async () => {
    const g = fakeGuest([{ code: 255, stdout: "", stderr: "not yet" }, ok("")]);
    expect((await runProbe(envWith(g), { name: "up", ssh: "true", timeout: "5s" })).ok).toBe(true);
    expect(g.commands).toHaveLength(2);
  });

  it("http: the guest's address filled in, retried until the status matches, the body checked", async () => {
    hits = 0;
    const env = envWith(fakeGuest([]), "127.0.0.1");
    const r = await runProbe(env, {
      name: "health",
      http: `http://{address}:${port}/health`,
      expect: "ok",
      timeout: "10s",
    });
    expect(r).toEqual({ name: "http: health", ok: true, detail: `http://127.0.0.1:${port}/health: HTTP 200` });
    expect(hits).toBe(3);
    expect(
      await runProbe(env, { name: "body", http: `http://{address}:${port}/health`, expect: "nope", timeout: "1s" }),
    ).toMatchObject({ ok: false, detail: `http://127.0.0.1:${port}/health: HTTP 200 but the body lacks "nope"` });
    expect(await runProbe(env, { name: "missing", http: `http://{address}:${port}/x`, timeout: "1s" })).toMatchObject({
      ok: false,
      detail: `http://127.0.0.1:${port}/x: HTTP 404, expected 200`,
    });
    expect(await runProbe(env, { name: "404 wanted", http: `http://{address}:${port}/x`, status: 404 })).toMatchObject({
      ok: true,
    });
  });

  it("compose: every service healthy or running; a stack missing or unhealthy fails, naming the service", async () => {
    const inspect = (service: string, status: string, health?: string) => ({
      Id: service,
      Name: `/wiki-${service}-1`,
      Config: { Labels: { "com.docker.compose.service": service } },
      State: { Status: status, ExitCode: 0, ...(health ? { Health: { Status: health, Log: [] } } : {}) },
    });
    const healthy = fakeGuest([ok(JSON.stringify([inspect("app", "running", "healthy"), inspect("db", "running")]))]);
    expect(await runProbe(envWith(healthy), { name: "wiki", compose: "wiki" })).toEqual({
      name: "compose: wiki",
      ok: true,
      detail: "2 service(s) healthy or running",
    });
    expect(healthy.commands[0]).toContain("label=com.docker.compose.project=wiki");
    const sick = fakeGuest([ok(JSON.stringify([inspect("app", "running", "unhealthy"), inspect("db", "running")]))]);
    expect(await runProbe(envWith(sick), { name: "wiki", compose: "wiki", timeout: "1s" })).toEqual({
      name: "compose: wiki",
      ok: false,
      detail: "app: unhealthy",
    });
    expect(
      await runProbe(envWith(fakeGuest([ok("[]")])), { name: "wiki", compose: "wiki", timeout: "1s" }),
    ).toMatchObject({ ok: false, detail: "no containers of Compose project wiki" });
    expect(
      await runProbe(envWith(healthy), { name: "wiki", compose: "wiki", services: ["app", "cache"], timeout: "1s" }),
    ).toMatchObject({ ok: false, detail: "cache: no container" });
  });
});

describe("interrupts", () => {
  it("an already-interrupted wait rejects at once, and the call it wrapped may still fail without an unhandled rejection", async () => {
    const { abortable, Interrupted } = await import("../../../src/drill/env.ts");
    const ac = new AbortController();
    ac.abort();
    let fail!: (e: Error) => void;
    const call = new Promise<never>((_, reject) => (fail = reject));
    await expect(abortable(ac.signal, call)).rejects.toBeInstanceOf(Interrupted);
    fail(new Error("interrupted (the API call, aborted too)"));
    await new Promise((r) => setTimeout(r, 10)); // vitest fails the run on an unhandled rejection
  });
});
