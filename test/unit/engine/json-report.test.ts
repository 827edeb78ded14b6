// --json's before/after of real planned changes: secret values (a PBS token secret and
// encryption key, a secret-rendered file, a secret stack file) show only as the marker,
// other values as they are, and the report still matches docs/schema/report.schema.json.
import { describe, expect, it } from "vitest";
import { jsonReport } from "../../../src/engine/output.ts";
import type { RunResult } from "../../../src/engine/runner.ts";
import type { Change } from "../../../src/engine/types.ts";
import { pbsStorageDiff } from "../../../src/proxmox/resources/pbs-storage.ts";
import { fileChanges } from "../../../src/resources/compose/diff.ts";
import { stackFile } from "../../../src/resources/compose/files.ts";
import { fileDiff } from "../../../src/resources/file.ts";
import { userDiff } from "../../../src/resources/users.ts";
import { Secret } from "../../../src/secrets/secret.ts";
import { validReport } from "../helpers/report-schema.ts";

const TOKEN = "pbs-token-secret-in-report-test";
const KEY = '{"kdf":null,"key":"encryption-key-in-report-test"}';
const FILE = "db-password-in-report-test";
const ENV = "STACK_SECRET=stack-secret-in-report-test";

const report = (changes: Change[]) => {
  const r: RunResult = {
    playbook: "site.ts",
    check: true,
    results: [{ play: "p", host: "h", id: "x", role: "", status: "changed", changes, durationMs: 1 }],
    hosts: { h: { ok: 0, changed: 1, failed: 0, skipped: 0, unreachable: 0, status: "changed", roundTrips: 1 } },
    exitCode: 0,
    interrupted: false,
    durationMs: 1,
  };
  const text = jsonReport(r);
  const v = validReport(text) as { steps: { changes: { key: string; before?: unknown; after?: unknown }[] }[] };
  return { text, changes: v.steps[0]!.changes };
};

describe("--json before/after", () => {
  it("a new PBS storage shows its wanted state, the token secret and encryption key as the marker", () => {
    const { text, changes } = report(
      pbsStorageDiff(
        {
          storage: "pbs-lab",
          server: "127.0.0.1",
          datastore: "lab",
          username: "lab@pbs!pve",
          password: new Secret("pbs_token", TOKEN),
          encryptionKey: new Secret("pbs_key", KEY),
          fingerprint: "AA:BB",
        },
        { config: undefined, fingerprint: "AA:BB" },
      ),
    );
    expect(changes).toEqual([
      {
        key: "create",
        summary: "add PBS storage pbs-lab: datastore lab on 127.0.0.1, encrypted",
        before: null,
        after: {
          storage: "pbs-lab",
          server: "127.0.0.1",
          datastore: "lab",
          username: "lab@pbs!pve",
          password: "(sensitive)",
          encryptionKey: "(sensitive)",
          fingerprint: "AA:BB",
          content: "backup",
        },
      },
    ]);
    for (const s of [TOKEN, "encryption-key-in-report-test", "pbs_token", "pbs_key"]) expect(text).not.toContain(s);
  });

  it("a secret-rendered file and a secret stack file show the marker, never the value", () => {
    const file = fileDiff(
      { path: "/etc/app/db", content: new Secret("db", FILE) },
      { kind: "file", mode: "0600", owner: "root", group: "root", sha256: "0".repeat(64), content: "old" },
    );
    const stack = fileChanges({
      dir: "/srv/app",
      revision: "rev-1",
      files: [stackFile("app.env", new Secret("env", ENV)), stackFile("compose.yaml", "services: {}\n")],
      state: {
        revisions: [],
        files: { "app.env": { mode: "0600", sha256: "1".repeat(64) } },
        images: {},
        containers: [],
        dockerDown: false,
      },
      desired: { services: {} },
    });
    const { text, changes } = report([...file, ...stack]);
    expect(changes.map((c) => [c.key, c.before, c.after])).toEqual([
      ["content", "(sensitive)", "(sensitive)"],
      ["file:app.env", "(sensitive)", "(sensitive)"],
      ["file:compose.yaml", null, "services: {}\n"],
    ]);
    for (const s of [FILE, "stack-secret-in-report-test", "old"]) expect(text).not.toContain(s);
  });

  it("a user's attributes show as they are: before what the host has, after what is wanted", () => {
    const { changes } = report(
      userDiff({ name: "app", shell: "/bin/bash", groups: ["b", "a"] }, { exists: true, shell: "/bin/sh", groups: [] }),
    );
    expect(changes.map((c) => [c.key, c.before, c.after])).toEqual([
      ["shell", "/bin/sh", "/bin/bash"],
      ["groups", [], ["a", "b"]],
    ]);
  });
});
