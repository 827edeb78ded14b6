// Facts as data (pyinfra's tests/facts/<Fact>/<case>.json): raw stdout + exit
// code in, parsed value out. Each case is parsed directly AND through a batched
// round trip (FakeTransport + BatchedFacts), which must hand the parser the
// very same bytes.
import { describe, expect, it } from "vitest";
import type { Fact } from "../../../src/engine/types.ts";
import { BatchedFacts } from "../../../src/facts/cache.ts";
import { guardFact, type CommandWant } from "../../../src/resources/command.ts";
import { packagesFact } from "../../../src/resources/packages.ts";
import { pathFact } from "../../../src/resources/path-fact.ts";
import { serviceFact } from "../../../src/resources/service.ts";
import { groupFact, userFact } from "../../../src/resources/users.ts";
import { unitStateFact } from "../../../src/resources/systemd-unit.ts";
import { clusterFact } from "../../../src/resources/postgres/cluster.ts";
import { runningFact, type RunningWant } from "../../../src/resources/postgres/settings.ts";
import { stanzaFact, type StanzaWant } from "../../../src/resources/pgbackrest/stanza.ts";
import { FakeTransport } from "../helpers/fake-transport.ts";
import { cases, folders } from "../helpers/fixtures.ts";

interface FactCase {
  about?: string;
  args: unknown[];
  stdout: string;
  code: number;
  value: unknown;
}

const factories: Record<string, (args: unknown[]) => Fact<unknown>> = {
  pathFact: ([p]) => pathFact(p as string),
  packagesFact: ([names, latest]) => packagesFact(names as string[], latest as boolean),
  serviceFact: ([n]) => serviceFact(n as string),
  userFact: ([n]) => userFact(n as string),
  groupFact: ([n]) => groupFact(n as string),
  guardFact: ([w]) => guardFact(w as CommandWant),
  unitStateFact: ([n]) => unitStateFact(n as string),
  clusterFact: ([v, n]) => clusterFact(v as number, n as string),
  runningFact: ([w]) => runningFact(w as RunningWant),
  stanzaFact: ([w]) => stanzaFact(w as StanzaWant),
};

it("every fact has fixtures and every fixture folder names a fact", () => {
  expect(folders("facts")).toEqual(Object.keys(factories).sort());
});

describe.each(folders("facts"))("%s", (folder) => {
  const make = factories[folder];
  it.each(cases<FactCase>("facts", folder))("%s", async (_name, c) => {
    if (!make) throw new Error(`no factory for fixture folder ${folder}`);
    const fact = make(c.args);
    expect(fact.parse(c.stdout, c.code)).toStrictEqual(c.value);

    const t = new FakeTransport().fact(fact.command, { stdout: c.stdout, code: c.code });
    const facts = new BatchedFacts(t);
    expect(await facts.get(fact)).toStrictEqual(c.value);
    expect(t.factCommands).toEqual([fact.command]);
  });
});
