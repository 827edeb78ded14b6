// Where the age secret key comes from, and who the secrets file is encrypted to.
// Identity: $LAB_AGE_KEY_FILE, else $LAB_AGE_KEY, else ~/.config/lab/age.key.
// Recipients: `.age-recipients` beside the secrets file, so any key holder can
// re-encrypt for everyone (not just for themselves).
import { readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { badInput, LabError } from "../errors.ts";
import { Redactor } from "./secret.ts";
import { ageLib } from "./age.ts";

export interface KeyOptions {
  /** Environment to read LAB_AGE_KEY_FILE / LAB_AGE_KEY / XDG_CONFIG_HOME from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Home directory for the default key path (default os.homedir()). */
  home?: string;
}

export interface Identities {
  /** AGE-SECRET-KEY-... strings. */
  readonly keys: readonly string[];
  /** The matching public keys (age1...). */
  readonly recipients: readonly string[];
  /** Where they came from, for messages: a path or "$LAB_AGE_KEY". */
  readonly source: string;
}

export const defaultKeyFile = (opts: KeyOptions = {}): string => {
  const env = opts.env ?? process.env;
  const config = env.XDG_CONFIG_HOME || join(opts.home ?? homedir(), ".config");
  return join(config, "lab", "age.key");
};

/** The key file `lab secrets init` writes to ($LAB_AGE_KEY_FILE or the default). */
export const keyFilePath = (opts: KeyOptions = {}): string =>
  (opts.env ?? process.env).LAB_AGE_KEY_FILE || defaultKeyFile(opts);

export const NO_KEY_HINT =
  "set LAB_AGE_KEY_FILE to your age key file, or LAB_AGE_KEY to the key itself, " +
  "or put it in ~/.config/lab/age.key (`lab secrets init` creates one)";

/**
 * The identities to decrypt with; undefined when none is configured at all.
 * A $LAB_AGE_KEY_FILE that does not exist is an error, unless `forInit` (init creates it).
 */
export async function findIdentities(opts: KeyOptions = {}, forInit = false): Promise<Identities | undefined> {
  const env = opts.env ?? process.env;
  if (env.LAB_AGE_KEY_FILE) return readKeyFile(env.LAB_AGE_KEY_FILE, !forInit);
  if (env.LAB_AGE_KEY) return parseIdentities(env.LAB_AGE_KEY, "$LAB_AGE_KEY");
  return readKeyFile(defaultKeyFile(opts), false);
}

/** Like findIdentities, but a missing key is a LabError saying what to set. */
export async function requireIdentities(what: string, opts: KeyOptions = {}): Promise<Identities> {
  const ids = await findIdentities(opts);
  if (!ids) throw badInput(`${what}: no age key found`, {}, NO_KEY_HINT);
  return ids;
}

async function readKeyFile(file: string, explicit: boolean): Promise<Identities | undefined> {
  let text: string;
  try {
    // Like ssh: a key others can read is refused, not silently used.
    const st = await stat(file);
    if (process.platform !== "win32" && (st.mode & 0o077) !== 0) {
      throw badInput(
        `age key file ${file} is readable by others (mode ${(st.mode & 0o777).toString(8)})`,
        { file },
        `chmod 600 ${file}`,
      );
    }
    text = await readFile(file, "utf8");
  } catch (e) {
    if (e instanceof LabError) throw e;
    if ((e as NodeJS.ErrnoException).code === "ENOENT" && !explicit) return undefined;
    const why =
      (e as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : `cannot be read (${(e as Error).message})`;
    throw badInput(`age key file ${file} (from LAB_AGE_KEY_FILE) ${why}`, { file }, NO_KEY_HINT);
  }
  return parseIdentities(text, file);
}

/** Parse the age-keygen format: `# comments` and one AGE-SECRET-KEY-... per line. */
export async function parseIdentities(text: string, source: string): Promise<Identities> {
  const keys: string[] = [];
  const recipients: string[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    // Never echo the line: it is (a typo of) a secret key.
    const bad = badInput(
      `${source}: line ${i + 1} is not an age secret key (expected AGE-SECRET-KEY-1...)`,
      source.startsWith("$") ? {} : { file: source, line: i + 1 },
    );
    if (!line.startsWith("AGE-SECRET-KEY-")) throw bad;
    try {
      recipients.push(await (await ageLib()).identityToRecipient(line));
    } catch {
      throw bad;
    }
    Redactor.global.add(line);
    keys.push(line);
  }
  if (keys.length === 0) throw badInput(`${source} holds no age secret key`, {}, NO_KEY_HINT);
  return { keys, recipients, source };
}

export const recipientsFileFor = (secretsFile: string): string => join(dirname(secretsFile), ".age-recipients");

/** Public keys (age1...) from a recipients file; undefined when it does not exist. */
export async function readRecipients(file: string): Promise<string[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  const out: string[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") continue;
    if (line.startsWith("AGE-SECRET-KEY-")) {
      // A private key committed by mistake: stop before anything else happens.
      throw badInput(
        `${file}: line ${i + 1} is a SECRET key; recipients are public keys (age1...)`,
        { file, line: i + 1 },
        "remove it, rotate that key, and put its public key (age1...) here instead",
      );
    }
    if (!/^age1[0-9a-z]+$/.test(line)) {
      throw badInput(`${file}: line ${i + 1} is not an age public key (age1...): ${line}`, { file, line: i + 1 });
    }
    out.push(line);
  }
  return out;
}
