// Resources as data (pyinfra's tests/operations/<op>/<case>.json): want + have
// in -> changes (key, one-line summary, diff) out, and the commands apply()
// sends (recorded by a FakeTransport). Secret values must appear nowhere.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Change, Resource } from "../../../src/engine/types.ts";
import { shown as reportValue } from "../../../src/engine/output.ts";
import { LabError } from "../../../src/errors.ts";
import { command, type CommandWant } from "../../../src/resources/command.ts";
import { directory, type DirectoryWant } from "../../../src/resources/directory.ts";
import { file, type FileWant } from "../../../src/resources/file.ts";
import { block, line, type BlockWant, type LineWant } from "../../../src/resources/lines.ts";
import { packages, type PackagesWant } from "../../../src/resources/packages.ts";
import { service, type ServiceWant } from "../../../src/resources/service.ts";
import { group, user, type GroupWant, type UserWant } from "../../../src/resources/users.ts";
import { cron, type CronWant } from "../../../src/resources/cron.ts";
import { systemdUnit, type SystemdUnitWant } from "../../../src/resources/systemd-unit.ts";
import { scheduledJob, type ScheduledJobWant } from "../../../src/resources/scheduled-job.ts";
import { postgresCluster, type ClusterWant } from "../../../src/resources/postgres/cluster.ts";
import { postgresRunning, type RunningWant } from "../../../src/resources/postgres/settings.ts";
import { pgbackrestStanza, type StanzaWant } from "../../../src/resources/pgbackrest/stanza.ts";
import { FakeTransport } from "../helpers/fake-transport.ts";
import { cases, folders, secretValues } from "../helpers/fixtures.ts";
import { hostCtx } from "../helpers/host-ctx.ts";

type Expected = string | { match: string };
interface ResourceCase {
  about?: string;
  want: unknown;
  have?: unknown;
  /** The resource id. */
  id?: string;
  /** The changes: key and summary exactly; diff: lines it must contain, or null for "no diff"; before/after as --json shows them. */
  changes?: { key: string; summary: string; diff?: string[] | null; before?: unknown; after?: unknown }[];
  /** Reason recorded for a no-op. */
  ok?: string;
  /** diff() throws a LabError containing this. */
  throws?: string;
  /** The constructor refuses the want (exit code 2). */
  constructThrows?: string;
  /** apply() throws a LabError containing this. */
  applyThrows?: string;
  /** Commands apply() runs, in order: exact text or a regexp. */
  commands?: Expected[];
  /** What fact round trips answer while apply() runs (a resource that waits for the host to show the change): stdout of the batch. */
  factsAfter?: string;
  /** stdin of those commands, in order (only for commands given stdin). */
  stdin?: string[];
  /** Why apply() cannot run against the scripted transport (it polls the host); then `commands` may be left out. */
  applyNotScripted?: string;
  /** Text that must appear in no summary, diff or id. */
  mustNotContain?: string[];
}

const make: Record<string, (want: never) => Resource> = {
  file: (w: FileWant) => file(w),
  directory: (w: DirectoryWant) => directory(w),
  packages: (w: PackagesWant) => packages(w),
  service: (w: ServiceWant) => service(w),
  user: (w: UserWant) => user(w),
  group: (w: GroupWant) => group(w),
  line: (w: LineWant) => line(w),
  block: (w: BlockWant) => block(w),
  command: (w: CommandWant) => command(w),
  cron: (w: CronWant) => cron(w),
  systemdUnit: (w: SystemdUnitWant) => systemdUnit(w),
  scheduledJob: (w: ScheduledJobWant) => scheduledJob(w),
  postgresCluster: (w: ClusterWant) => postgresCluster(w),
  postgresRunning: (w: RunningWant) => postgresRunning(w),
  pgbackrestStanza: (w: StanzaWant) => pgbackrestStanza(w),
};
/** Changes that are actions, not values: no before/after (a command has no state to compare). */
const ACTIONS = new Set([
  "command:run",
  "systemdUnit:restart",
  "scheduledJob:service:restart",
  "scheduledJob:timer:restart",
  "pgbackrestStanza:check",
]);
const EDIT_FOLDERS = ["editBlock", "editLine"]; // edit.fixtures.test.ts

it("every fixture folder under resources/ is covered by a test", () => {
  expect(folders("resources")).toEqual([...Object.keys(make), ...EDIT_FOLDERS].sort());
});

const caught = (f: () => unknown): LabError => {
  try {
    f();
  } catch (e) {
    if (e instanceof LabError) return e;
    throw e;
  }
  throw new Error("expected a LabError, nothing was thrown");
};

describe.each(Object.keys(make))("%s", (kind) => {
  const construct = make[kind]!;
  it.each(cases<ResourceCase>("resources", kind))("%s", async (_name, c) => {
    if (c.constructThrows) {
      const e = caught(() => construct(c.want as never));
      expect(e.message).toContain(c.constructThrows);
      expect(e.code).toBe(2);
      return;
    }
    const r = construct(c.want as never);
    if (c.id) expect(r.id).toBe(c.id);
    if (c.throws) {
      expect(caught(() => r.diff(r.want, c.have)).message).toContain(c.throws);
      return;
    }
    const changes: Change[] = r.diff(r.want, c.have);

    expect(changes.map((x) => ({ key: x.key, summary: x.summary }))).toEqual(
      (c.changes ?? []).map((x) => ({ key: x.key, summary: x.summary })),
    );
    (c.changes ?? []).forEach((want, i) => {
      const got = changes[i]!;
      // --json's before/after (a secret as the marker): every change but an action has both.
      if (ACTIONS.has(`${kind}:${got.key}`)) expect([got.before, got.after]).toEqual([undefined, undefined]);
      else
        expect([reportValue(got.before, got.sensitive), reportValue(got.after, got.sensitive)]).toEqual([
          want.before,
          want.after,
        ]);
      if (want.diff === null) expect(got.diff).toBeUndefined();
      for (const l of want.diff ?? []) expect(got.diff?.split("\n").map((x) => x.trimEnd())).toContain(l);
    });
    // diff() is pure: the same inputs give the same changes.
    expect(r.diff(r.want, c.have)).toEqual(changes);

    const hidden = [...secretValues(c.want), ...(c.mustNotContain ?? [])];
    const shown = JSON.stringify({ id: r.id, changes, ok: changes.length ? undefined : r.ok?.(c.have) });
    for (const s of hidden) expect(shown).not.toContain(s);
    if (secretValues(c.want).length) for (const ch of changes) expect(ch.diff).toBeUndefined();

    if (changes.length === 0) {
      expect(typeof r.ok?.(c.have)).toBe("string");
      if (c.ok !== undefined) expect(r.ok?.(c.have)).toBe(c.ok);
    }

    // Every case with changes says what apply() sends (or that it refuses).
    if (changes.length > 0)
      expect(
        c.commands ?? c.applyThrows ?? c.applyNotScripted,
        "a fixture with changes lists the commands apply() sends",
      ).toBeDefined();
    if (c.commands || c.stdin || c.applyThrows) {
      const t = new FakeTransport();
      if (c.factsAfter !== undefined) t.fact(/./, { stdout: c.factsAfter });
      t.otherwise({ code: 0 });
      const ctx = hostCtx({ transport: t });
      const applied = r.apply(ctx, changes, c.have);
      if (c.applyThrows) {
        await expect(applied).rejects.toThrow(c.applyThrows);
        expect(t.calls).toEqual([]);
        return;
      }
      await applied;
      if (c.commands) {
        const sent = t.calls.filter((x) => x.command !== "sh -s");
        expect(sent).toHaveLength(c.commands.length);
        c.commands.forEach((want, i) => {
          const got = sent[i]!.command;
          if (typeof want === "string") expect(got).toBe(want);
          else expect(got).toMatch(new RegExp(want.match));
        });
      }
      if (c.stdin) expect(t.calls.filter((x) => x.stdin !== undefined).map((x) => x.stdin)).toEqual(c.stdin);
      // A staged write renames only a file of exactly the bytes sent: its size and sha256 are in the script.
      for (const call of t.calls.filter((x) => x.command.includes("\nwant_sha="))) {
        const body = Buffer.from(call.stdin ?? "");
        expect(call.command).toContain(
          `\nwant_size=${body.length}\nwant_sha=${createHash("sha256").update(body).digest("hex")}\n`,
        );
      }
      // Commands may carry a secret on stdin, never in the command line (it would show in ps and logs).
      for (const s of secretValues(c.want)) for (const call of t.calls) expect(call.command).not.toContain(s);
      // A secret that is written goes over stdin, whole.
      if (changes.some((ch) => ch.key === "content"))
        for (const s of secretValues(c.want)) expect(t.calls.some((x) => String(x.stdin ?? "").includes(s))).toBe(true);
    }
  });
});
