// The secrets store: `secrets.age` (safe to commit), age-encrypted YAML `name: value`.
// Values leave the store only as Secret objects, which registers them with the
// redactor the moment they are loaded.
import { readFile, rename, writeFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { badInput } from "../errors.ts";
import { decryptText, encryptText } from "./age.ts";
import {
  findIdentities,
  recipientsFileFor,
  readRecipients,
  requireIdentities,
  type Identities,
  type KeyOptions,
} from "./identity.ts";
import { checkName, checkValue, EMPTY_PLAINTEXT, parsePlaintext, updatePlaintext } from "./plaintext.ts";
import { Redactor, Secret } from "./secret.ts";

export interface SecretsOptions extends KeyOptions {
  /** Project root (default: the current directory). */
  root?: string;
  /** Secrets file, relative to root (default `secrets.age`). */
  file?: string;
  /** A missing secrets file gives an empty store instead of an error (no key needed then). */
  missingOk?: boolean;
}

export interface SecretStore {
  /** Absolute path of the secrets file. */
  readonly file: string;
  /** Known names, sorted. Names are not secret; values are. */
  names(): string[];
  has(name: string): boolean;
  /** Unknown name: LabError (exit 2) listing the known names. */
  get(name: string): Secret;
  /** Refuses invalid names and values shorter than 4 characters. Takes effect on save(). */
  set(name: string, value: string): void;
  /** false when there was no such secret. */
  delete(name: string): boolean;
  /** Re-encrypt to the current `.age-recipients` and write atomically. */
  save(): Promise<void>;
}

export const secretsPath = (opts: SecretsOptions = {}): string =>
  resolve(opts.root ?? process.cwd(), opts.file ?? "secrets.age");

/** The decrypted plaintext, for `lab secrets edit`. Undefined when the file does not exist. */
export async function readSecretsText(
  opts: SecretsOptions = {},
): Promise<{ text: string; ids: Identities } | undefined> {
  const file = secretsPath(opts);
  let data: Uint8Array;
  try {
    data = await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  const ids = await requireIdentities(`cannot decrypt ${file}`, opts);
  return { text: await decryptText(data, ids, file), ids };
}

/** Validate, encrypt to `.age-recipients` and atomically replace the secrets file. */
export async function writeSecretsText(text: string, opts: SecretsOptions = {}, ids?: Identities): Promise<void> {
  const file = secretsPath(opts);
  for (const v of parsePlaintext(text, file).values()) Redactor.global.add(v);
  const recipientsFile = recipientsFileFor(file);
  const recipients = await readRecipients(recipientsFile);
  if (!recipients?.length) {
    throw badInput(
      `no recipients: ${recipientsFile} is missing or empty`,
      { file: recipientsFile },
      "run `lab secrets init`, or list the public keys (age1...) allowed to decrypt, one per line",
    );
  }
  // Encrypting to a list without our own key would lock us out of the file we just wrote.
  const own = ids ?? (await findIdentities(opts));
  if (own && !own.recipients.some((r) => recipients.includes(r))) {
    throw badInput(
      `refusing to save ${basename(file)}: your key (${own.recipients.join(", ")}) is not in ${recipientsFile}`,
      { file: recipientsFile },
      "add your public key there (`lab secrets init` does), or you could not decrypt the result",
    );
  }
  const armored = await encryptText(text, recipients);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, armored, { mode: 0o644 });
  await rename(tmp, file);
}

export async function loadSecrets(opts: SecretsOptions = {}): Promise<SecretStore> {
  const file = secretsPath(opts);
  const read = await readSecretsText(opts);
  if (!read && !opts.missingOk) {
    throw badInput(`secrets file ${file} does not exist`, { file }, "run `lab secrets init` to create it (and a key)");
  }
  let text = read?.text ?? EMPTY_PLAINTEXT;
  const secrets = new Map<string, Secret>();
  for (const [name, value] of parsePlaintext(text, file)) secrets.set(name, new Secret(name, value));
  const pending = new Map<string, string | undefined>();

  return {
    file,
    names: () => [...secrets.keys()].sort(),
    has: (name) => secrets.has(name),
    get(name) {
      const s = secrets.get(name);
      if (s) return s;
      const known = [...secrets.keys()].sort();
      throw badInput(
        `unknown secret ${JSON.stringify(name)} in ${basename(file)}; known: ${known.length ? known.join(", ") : "(none)"}`,
        { file },
        `add it with \`lab secrets set ${name}\` (value on stdin)`,
      );
    },
    set(name, value) {
      checkName(name);
      checkValue(name, value);
      secrets.set(name, new Secret(name, value));
      pending.set(name, value);
    },
    delete(name) {
      if (!secrets.delete(name)) return false;
      pending.set(name, undefined);
      return true;
    },
    async save() {
      const next = updatePlaintext(text, pending);
      await writeSecretsText(next, opts, read?.ids);
      text = next;
      pending.clear();
    },
  };
}
