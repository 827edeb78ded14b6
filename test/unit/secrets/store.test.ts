import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { describe, expect, it } from "vitest";
import { ExitCode, LabError } from "../../../src/errors.ts";
import { initSecrets } from "../../../src/secrets/init.ts";
import { redact } from "../../../src/secrets/secret.ts";
import { loadSecrets, writeSecretsText } from "../../../src/secrets/store.ts";
import { projectOpts, tempDir } from "./helpers.ts";

const VALUE = "s3cr3t-pa55word-7f1c";

async function project() {
  const root = await tempDir();
  const opts = projectOpts(root);
  const init = await initSecrets(opts);
  return { root, opts, init };
}

async function caught(p: Promise<unknown>): Promise<LabError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(LabError);
  return e as LabError;
}

describe("secrets store", () => {
  it("init creates a 0600 key, .age-recipients and an empty store", async () => {
    const { root, init } = await project();
    expect(init.keyCreated).toBe(join(root, "home", "age.key"));
    expect((await stat(init.keyCreated!)).mode & 0o777).toBe(0o600);
    expect(await readFile(join(root, ".age-recipients"), "utf8")).toContain(init.recipient);
    expect(init.secretsCreated).toBe(true);
    const again = await initSecrets(projectOpts(root));
    expect(again).toMatchObject({ keyCreated: undefined, recipientsChange: "unchanged", secretsCreated: false });
  });

  it("round-trips values; the file on disk never holds the plaintext", async () => {
    const { root, opts } = await project();
    const store = await loadSecrets(opts);
    store.set("db_password", VALUE);
    store.set("multi", "line one\nline two\n");
    await store.save();
    const disk = await readFile(join(root, "secrets.age"), "utf8");
    expect(disk).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----/);
    expect(disk).not.toContain(VALUE);
    expect(disk).not.toContain("db_password");

    const again = await loadSecrets(opts);
    expect(again.names()).toEqual(["db_password", "multi"]);
    expect(again.get("db_password").reveal()).toBe(VALUE);
    expect(again.get("multi").reveal()).toBe("line one\nline two\n");
  });

  it("keeps comments through set/delete", async () => {
    const { opts } = await project();
    const s = await loadSecrets(opts);
    s.set("a_key", "aaaa-value");
    s.set("b_key", "bbbb-value");
    await s.save();
    const t = await loadSecrets(opts);
    expect(t.delete("a_key")).toBe(true);
    expect(t.delete("nope")).toBe(false);
    await t.save();
    expect((await loadSecrets(opts)).names()).toEqual(["b_key"]);
  });

  it("unknown name: exit 2 listing names, never values", async () => {
    const { opts } = await project();
    const s = await loadSecrets(opts);
    s.set("api_token", VALUE);
    let err: unknown;
    try {
      s.get("api_tokn");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LabError);
    const e = err as LabError;
    expect(e.code).toBe(ExitCode.badInput);
    expect(e.format()).toContain("api_token");
    expect(e.format()).not.toContain(VALUE);
  });

  it("refuses values shorter than 4 characters and bad names", async () => {
    const { opts } = await project();
    const s = await loadSecrets(opts);
    expect(() => s.set("pin", "123")).toThrow(/shorter than 4/);
    expect(() => s.set("bad name", "long enough")).toThrow(/invalid secret name/);
  });

  it("wrong key: clear error naming the env vars", async () => {
    const { opts } = await project();
    const other = await generateIdentity();
    const e = await caught(loadSecrets({ ...opts, env: { LAB_AGE_KEY: other } }));
    expect(e.code).toBe(ExitCode.badInput);
    expect(e.format()).toMatch(/cannot decrypt .*secrets\.age: no identity matches/);
    expect(e.format()).toContain("LAB_AGE_KEY_FILE");
    expect(e.format()).not.toContain(other);
    expect(redact(`key ${other}`)).not.toContain(other);
  });

  it("missing key: clear error", async () => {
    const { root } = await project();
    const e = await caught(loadSecrets({ root, home: join(root, "nohome"), env: {} }));
    expect(e.format()).toMatch(/no age key found/);
    expect(e.format()).toContain("LAB_AGE_KEY_FILE");
    const e2 = await caught(loadSecrets({ root, env: { LAB_AGE_KEY_FILE: join(root, "missing.key") } }));
    expect(e2.format()).toMatch(/missing\.key .*does not exist/);
  });

  it("key from $LAB_AGE_KEY and from ~/.config/lab/age.key", async () => {
    const { root, opts } = await project();
    const key = (await readFile(opts.env.LAB_AGE_KEY_FILE, "utf8"))
      .split("\n")
      .find((l) => l.startsWith("AGE-SECRET-KEY-"))!;
    await expect(loadSecrets({ root, env: { LAB_AGE_KEY: key } })).resolves.toBeDefined();
    const home = join(root, "h2");
    await mkdir(join(home, ".config", "lab"), { recursive: true });
    await writeFile(join(home, ".config", "lab", "age.key"), key, { mode: 0o600 });
    await expect(loadSecrets({ root, home, env: {} })).resolves.toBeDefined();
  });

  it("refuses a key file readable by others", async () => {
    const { opts } = await project();
    await chmod(opts.env.LAB_AGE_KEY_FILE, 0o644);
    const e = await caught(loadSecrets(opts));
    expect(e.hint).toContain("chmod 600");
  });

  it("a malformed key is reported without echoing it", async () => {
    const { root } = await project();
    const bad = "AGE-SECRET-KEY-1NOTAREALKEYATALL";
    const e = await caught(loadSecrets({ root, env: { LAB_AGE_KEY: bad } }));
    expect(e.format()).toMatch(/not an age secret key/);
    expect(e.format()).not.toContain(bad);
  });

  it("re-encrypts for every recipient, and refuses to lock its own key out", async () => {
    const { root, opts } = await project();
    const friend = await generateIdentity();
    const rec = join(root, ".age-recipients");
    await writeFile(rec, `${await readFile(rec, "utf8")}${await identityToRecipient(friend)}\n`);
    const s = await loadSecrets(opts);
    s.set("shared", VALUE);
    await s.save();
    expect((await loadSecrets({ root, env: { LAB_AGE_KEY: friend } })).get("shared").reveal()).toBe(VALUE);

    await writeFile(rec, `${await identityToRecipient(friend)}\n`);
    const e = await caught(s.save());
    expect(e.message).toMatch(/refusing to save/);
  });

  it("YAML errors give line:col, not the offending text", async () => {
    const { opts } = await project();
    const e = await caught(writeSecretsText(`ok: ${VALUE}\nbroken: [x: ${VALUE}\n`, opts));
    expect(e.format()).not.toContain(VALUE);
    expect(e.where.line).toBeGreaterThan(0);
  });

  it("missing secrets file: error, or an empty store with missingOk", async () => {
    const root = await tempDir();
    const e = await caught(loadSecrets({ root, env: {}, home: root }));
    expect(e.hint).toContain("lab secrets init");
    const s = await loadSecrets({ root, env: {}, home: root, missingOk: true });
    expect(s.names()).toEqual([]);
  });
});
