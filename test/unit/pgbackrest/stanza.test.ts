// A failing `pgbackrest check` names only the segment that did not arrive: the
// stanza resource adds why, from PostgreSQL's archiver and the async push.
import { expect, it } from "vitest";
import { pgbackrestStanza } from "../../../src/resources/pgbackrest/stanza.ts";
import { FakeTransport } from "../helpers/fake-transport.ts";
import { hostCtx } from "../helpers/host-ctx.ts";

it("a failing check reports pgBackRest's error, the archiver's last failure and the async push's error", async () => {
  const r = pgbackrestStanza({ stanza: "main", user: "postgres", repos: [1, 2], port: 5432, checkKey: "k1" });
  const t = new FakeTransport("db1")
    .on(/pgbackrest --stanza=main check$/, {
      code: 82,
      stderr: "ERROR: [082]: WAL segment 00000001000000000000000D was not archived before the 30000ms timeout\n",
    })
    .on(/pg_stat_archiver/, {
      stdout:
        "00000001000000000000000C at 2026-12-01 20:00:00+00 (4 failures); last archived 00000001000000000000000B\n@@\nraised from remote-0 ssh protocol on '127.0.37.3': unable to open file for write: [13] Permission denied\n",
    });
  const have = {
    repos: { 1: { code: 0, message: "ok" }, 2: { code: 0, message: "ok" } },
    checked: "old",
    archiverFailing: true,
  };
  const changes = r.diff(r.want, have);
  expect(changes.map((c) => c.key)).toEqual(["check"]);
  const applied = r.apply(hostCtx({ transport: t }), changes, have);
  await expect(applied).rejects.toThrow(
    /pgbackrest check main failed \(exit 82\):\n\s+ERROR: \[082\]: WAL segment 00000001000000000000000D was not archived/,
  );
  await expect(applied).rejects.toThrow(
    /PostgreSQL's archiver: last failed 00000001000000000000000C at .* \(4 failures\); last archived 00000001000000000000000B/,
  );
  await expect(applied).rejects.toThrow(/async archive-push: raised from remote-0 .*Permission denied/);
  // Nothing recorded as passing.
  expect(t.commands.some((c) => c.includes("pgbackrest-check-main"))).toBe(false);
});
