// The database host's one round trip: the script's parts, and parsing their framed output
// (recorded pgBackRest 2.45 / PostgreSQL 15 outputs inside).
import { describe, expect, it } from "vitest";
import { parseCollected, pgCollectScript } from "../../../src/backup/pg-collect.ts";
import { framed, fx, pgPolicy } from "./fixtures.ts";

const policy = pgPolicy({
  schedule: { full: "0 1 * * 0" },
  repositories: [
    { name: "local", index: 1, path: "/var/lib/pgbackrest", user: "postgres", retention: { full: 2 } },
    { name: "offsite", index: 2, host: "backup1", path: "/x", user: "pgbackrest", retention: { full: 2 } },
  ],
});

describe("pg collection", () => {
  it("runs every part as postgres, quoting the stanza and cluster", () => {
    const s = pgCollectScript({ ...policy, stanza: "main; rm -rf /" }, true);
    const lines = s.split("\n");
    expect(lines[0]).toBe("cd / && d=$(mktemp -d) || exit 3");
    // Side by side, each into its own file, printed in order once all are done.
    expect(lines.slice(-2)).toEqual(["wait", `cat "$d/0" "$d/1" "$d/2" "$d/3" "$d/4"; rm -rf "$d"`]);
    expect(
      lines.slice(1, -2).map((l, i) =>
        l
          .replace(new RegExp(`^\\((.*)\\) > "\\$d/${i}" &$`), "$1")
          .replace(/ 2>&1; printf '\\n@@lab-backup:rc:%s\\n' \$\?$/, "")
          .replace(/^echo @@lab-backup:(\w+); /, "$1: "),
      ),
    ).toEqual([
      expect.stringMatching(
        /^sql: runuser -u postgres -- sh -c 'psql -XAtq --cluster 15\/main -d postgres -c '"'"'select json_build_object\(/,
      ),
      "info: runuser -u postgres -- sh -c 'pgbackrest --stanza='\"'\"'main; rm -rf /'\"'\"' --output=json info'",
      "check: runuser -u postgres -- sh -c 'pgbackrest --stanza='\"'\"'main; rm -rf /'\"'\"' --archive-timeout=15 check'",
      "ls1: runuser -u postgres -- sh -c 'pgbackrest --stanza='\"'\"'main; rm -rf /'\"'\"' --repo=1 repo-ls --recurse --output=json '\"'\"'archive/main; rm -rf /'\"'\"''",
      "ls2: runuser -u postgres -- sh -c 'pgbackrest --stanza='\"'\"'main; rm -rf /'\"'\"' --repo=2 repo-ls --recurse --output=json '\"'\"'archive/main; rm -rf /'\"'\"''",
    ]);
    expect(pgCollectScript(policy, false)).not.toContain(" check");
  });

  it("parses the framed outputs into an observation (system-id kept exact)", () => {
    const sql = JSON.stringify({
      archiver: JSON.parse(fx("pg-stat-archiver-failing.json")) as object,
      oldest_ready_time: "2026-12-01T20:23:10+00:00",
      current_wal: "00000001000000000000000A",
    });
    const o = parseCollected(policy, {
      code: 0,
      stderr: "",
      stdout: framed([
        ["sql", sql, 0],
        ["info", fx("info-two-repos-ok.json"), 0],
        ["check", fx("check-repo2-readonly.txt"), 82],
        ["ls1", fx("repo-ls-archive-repo1.json"), 0],
        ["ls2", "ERROR: [104]: unable to connect", 104],
      ]),
    });
    expect(o.archiver).toMatchObject({
      failed_count: 3,
      last_failed_wal: "000000010000000000000008",
      oldest_ready_time: "2026-12-01T20:23:10+00:00",
      current_wal: "00000001000000000000000A",
    });
    expect(o.info?.name).toBe("main");
    expect(JSON.stringify(o.info)).toContain('"system-id":"7714433546042499522"');
    expect(o.check).toEqual({ code: 82, output: fx("check-repo2-readonly.txt") });
    expect(Object.keys(o.listings[1] ?? {})).toContain(
      "15-1/0000000100000000/000000010000000000000007-f226b05580390dd95a6c2cb7f280d2329c1cb6e0.zst",
    );
    expect(o.listings[2]).toBeUndefined();
    expect(o.unreachable).toBeUndefined();
  });

  it("no stanza, missing tools, or no output at all are said as such", () => {
    const noStanza = parseCollected(policy, {
      code: 0,
      stderr: "",
      stdout: framed([
        ["sql", "{}", 0],
        ["info", '[{"name":"main","status":{"code":1,"message":"missing stanza path"}}]', 0],
      ]),
    });
    expect(noStanza.info).toBeUndefined();
    const noTools = parseCollected(policy, {
      code: 0,
      stderr: "",
      stdout: framed([["sql", "sh: 1: psql: command not found", 127]]),
    });
    expect(noTools.unreachable).toBe("PostgreSQL tools missing on db1: sh: 1: psql: command not found");
    expect(parseCollected(policy, { code: 255, stderr: "ssh: connect refused\n", stdout: "" }).unreachable).toBe(
      "no output from db1 (exit 255): ssh: connect refused",
    );
  });
});
