import { chmod, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { appendAudit, auditFile, readAudit, redactDeep, type AuditEntry } from "../../../src/engine/audit.ts";
import { Redactor, Secret } from "../../../src/secrets/secret.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function root(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "lab-audit-"));
  dirs.push(d);
  return d;
}

// Quotes, a backslash and '@' so the JSON-escaped and URL-encoded forms differ from the raw value.
const VALUE = 'pa"ss\\w@rd-31337';
const secret = new Secret("db_password", VALUE);

const entry = (over: Partial<AuditEntry> = {}): AuditEntry => ({
  argv: ["apply", "site.ts", "-e", `db_password=${VALUE}`],
  playbook: `playbooks/${VALUE}.ts`,
  hosts: ["web1", VALUE],
  limit: `web*,${VALUE}`,
  check: false,
  changes: [
    { host: "web1", resource: `file:/etc/${VALUE}`, summary: `content: set password ${VALUE}` },
    { host: "db1", resource: "pg:role/app", summary: `password -> ${secret.toString()}` },
  ],
  outcome: "changed",
  exitCode: 0,
  durationMs: 1234,
  ...over,
});

describe("audit log", () => {
  it("never holds a secret value, wherever it was given", async () => {
    const dir = await root();
    await appendAudit(entry({ user: `u-${VALUE}`, host: VALUE }), { root: dir });
    const text = await readFile(auditFile({ root: dir }), "utf8");
    for (const form of [VALUE, JSON.stringify(VALUE).slice(1, -1), encodeURIComponent(VALUE), "31337"]) {
      expect(text).not.toContain(form);
    }
    const [rec] = await readAudit({ root: dir });
    expect(rec?.argv).toEqual(["apply", "site.ts", "-e", "db_password=«redacted»"]);
    expect(rec?.changes[1]?.summary).toBe("password -> «secret:db_password»");
    expect(rec).toMatchObject({
      playbook: "playbooks/«redacted».ts",
      check: false,
      outcome: "changed",
      exitCode: 0,
      durationMs: 1234,
    });
  });

  it("is JSON lines, appended, with time, user and host filled in", async () => {
    const dir = await root();
    await appendAudit(entry({ outcome: "ok", changes: [] }), { root: dir });
    const first = await readFile(auditFile({ root: dir }), "utf8");
    await Promise.all([
      appendAudit(entry({ exitCode: 3, outcome: "failed" }), { root: dir }),
      appendAudit(entry({ check: true }), { root: dir }),
    ]);
    const text = await readFile(auditFile({ root: dir }), "utf8");
    expect(text.startsWith(first)).toBe(true);
    const recs = await readAudit({ root: dir });
    expect(recs).toHaveLength(3);
    for (const r of recs) {
      expect(Date.parse(r.time)).not.toBeNaN();
      expect(r.user).not.toBe("");
      expect(r.host).not.toBe("");
    }
  });

  it("creates the log 0600 and tightens a loosened one", async () => {
    const dir = await root();
    const file = auditFile({ root: dir });
    await appendAudit(entry(), { root: dir });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await chmod(file, 0o644);
    await appendAudit(entry(), { root: dir });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it("honours a configured path", async () => {
    const dir = await root();
    const file = join(dir, "logs", "audit.jsonl");
    await appendAudit(entry(), { root: dir, file });
    expect(await readAudit({ root: dir, file })).toHaveLength(1);
    expect(await readAudit({ root: dir })).toEqual([]);
  });

  it("redactDeep scrubs keys and nested values with a given redactor", () => {
    const r = new Redactor();
    r.add("topsecret");
    expect(redactDeep({ topsecret: ["a topsecret b", { n: 1, d: new Date(0) }] }, r)).toEqual({
      "«redacted»": ["a «redacted» b", { n: 1, d: "1970-01-01T00:00:00.000Z" }],
    });
  });
});
