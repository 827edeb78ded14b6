// BatchedFacts: every fact a host needs in ONE round trip, cached until
// invalidated, each fact's stdout and exit code handed to its parser exactly.
import { describe, expect, it } from "vitest";
import type { Fact } from "../../../src/engine/types.ts";
import { LabError } from "../../../src/errors.ts";
import { BatchedFacts } from "../../../src/facts/cache.ts";
import { LocalTransport } from "../../../src/transport/local.ts";
import { FakeTransport, parseBatch } from "../helpers/fake-transport.ts";

interface Raw {
  out: string;
  code: number;
}
/** A fact whose value is its raw output and exit code. */
const rawFact = (key: string, command: string): Fact<Raw> => ({ key, command, parse: (out, code) => ({ out, code }) });
const echo = (key: string, text: string) => rawFact(key, `printf '%s' '${text.replaceAll("'", `'"'"'`)}'`);

describe("BatchedFacts with a fake transport", () => {
  it("runs N facts in exactly ONE exec and caches them", async () => {
    const t = new FakeTransport().fact(/^echo /, (cmd) => ({ stdout: `${cmd.slice(5)}\n` }));
    const facts = new BatchedFacts(t);
    const list = Array.from({ length: 12 }, (_, i) => rawFact(`f${i}`, `echo value-${i}`));
    await facts.prefetch(list);
    expect(t.calls).toHaveLength(1);
    expect(t.calls[0]!.command).toBe("sh -s");
    expect(parseBatch(t.calls[0]!.stdin!).map((b) => b.command)).toEqual(list.map((f) => f.command));
    expect(facts.roundTrips).toBe(1);
    // Index 1 vs 10 and 11: no confusion between boundaries.
    for (const [i, f] of list.entries()) expect(await facts.get(f)).toEqual({ out: `value-${i}\n`, code: 0 });
    expect(t.calls).toHaveLength(1);
    await facts.prefetch(list);
    expect(t.calls).toHaveLength(1);
  });

  it("fetches only what is missing, each key once", async () => {
    const t = new FakeTransport().fact(/^echo /, (cmd) => ({ stdout: cmd.slice(5) }));
    const facts = new BatchedFacts(t);
    const a = rawFact("a", "echo A");
    const b = rawFact("b", "echo B");
    await facts.get(a);
    await facts.prefetch([a, b, b, rawFact("b", "echo B")]);
    expect(t.factCommands).toEqual(["echo A", "echo B"]);
    expect(facts.roundTrips).toBe(2);
    expect(await facts.get(b)).toEqual({ out: "B", code: 0 });
  });

  it("invalidate(keys) forgets those keys; invalidate() forgets all", async () => {
    let n = 0;
    const t = new FakeTransport().fact(/^echo /, (cmd) => ({ stdout: `${cmd.slice(5)}#${++n}` }));
    const facts = new BatchedFacts(t);
    const a = rawFact("a", "echo A");
    const b = rawFact("b", "echo B");
    await facts.prefetch([a, b]);
    facts.invalidate(["a"]);
    expect((await facts.get(a)).out).toBe("A#3");
    expect((await facts.get(b)).out).toBe("B#2");
    facts.invalidate();
    await facts.prefetch([a, b]);
    expect(t.factCommands).toEqual(["echo A", "echo B", "echo A", "echo A", "echo B"]);
    expect((await facts.get(b)).out).toBe("B#5");
    expect(facts.roundTrips).toBe(3);
  });

  it("hands the parser the exit code", async () => {
    const t = new FakeTransport().fact("getent passwd nosuch", { stdout: "", code: 2 });
    expect(await new BatchedFacts(t).get(rawFact("u", "getent passwd nosuch"))).toEqual({ out: "", code: 2 });
  });

  it("fails with the host, the fact and stderr when the batch produced no output", async () => {
    const t = new FakeTransport("web1").on("sh -s", {
      stdout: "",
      stderr: "sh: 1: Syntax error: end of file unexpected\n",
      code: 2,
    });
    const err = await new BatchedFacts(t).get(rawFact("path:/etc/motd", "stat /etc/motd")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).message).toContain(
      "fact path:/etc/motd: no output from the host (exit 2): sh: 1: Syntax error",
    );
    expect((err as LabError).where).toMatchObject({ host: "web1", command: "stat /etc/motd" });
  });
});

describe("BatchedFacts through a real sh (local transport)", () => {
  const tricky: [string, string][] = [
    ["nothing", ""],
    ["one newline", "\n"],
    ["trailing newlines", "a\n\n\n"],
    ["no final newline", "abc"],
    ["crlf", "a\r\nb\r\n"],
    ["leading newlines", "\n\nx"],
    ["boundary-like", "@@lab-0123456789abcdef:0\n@@lab-0123456789abcdef:0:0\n"],
    ["boundary prefix only", "@@lab-"],
    ["format chars", "%s %d \\n \\\\"],
    ["unicode", "żółć ✓\n"],
  ];

  it("returns every fact's stdout byte-identical, in one round trip", async () => {
    const t = new LocalTransport("local");
    const facts = new BatchedFacts(t);
    const list = tricky.map(([name, text]) => echo(name, text));
    await facts.prefetch(list);
    expect(facts.roundTrips).toBe(1);
    for (const [i, [, text]] of tricky.entries()) expect(await facts.get(list[i]!)).toEqual({ out: text, code: 0 });
  });

  it("frames output exactly as the FakeTransport does", async () => {
    const list = tricky.map(([name, text]) => echo(name, text));
    const real = new BatchedFacts(new LocalTransport("local"));
    const fake = new FakeTransport();
    for (const [, text] of tricky) fake.fact(echo("x", text).command, { stdout: text });
    const faked = new BatchedFacts(fake);
    await Promise.all([real.prefetch(list), faked.prefetch(list)]);
    for (const f of list) expect(await faked.get(f)).toEqual(await real.get(f));
  });

  it("keeps each fact apart: exit codes, exit, stderr, stdin, comments", async () => {
    const facts = new BatchedFacts(new LocalTransport("local"));
    const list = [
      rawFact("exit3", "echo before; exit 3"),
      rawFact("false", "false"),
      rawFact("stderr", "echo out; echo err >&2"),
      // stdin carries the script itself: a fact reading stdin must get nothing (not eat the next facts).
      rawFact("stdin", "cat; echo done"),
      rawFact("comment", "echo hi # a trailing comment"),
      rawFact("last", "echo last"),
    ];
    await facts.prefetch(list);
    const got = await Promise.all(list.map((f) => facts.get(f)));
    expect(got).toEqual([
      { out: "before\n", code: 3 },
      { out: "", code: 1 },
      { out: "out\n", code: 0 },
      { out: "done\n", code: 0 },
      { out: "hi\n", code: 0 },
      { out: "last\n", code: 0 },
    ]);
  });

  it("reports the fact that broke the batch (a syntax error stops sh)", async () => {
    const facts = new BatchedFacts(new LocalTransport("local"));
    const err = await facts
      .prefetch([rawFact("good", "echo ok"), rawFact("broken", "if then fi"), rawFact("after", "echo after")])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).message).toMatch(/^fact broken: no output from the host/);
  });
});
