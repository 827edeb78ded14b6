// `lab secrets init`: a key (unless one is configured), `.age-recipients` holding
// its public key, and an empty secrets file. Never overwrites what exists.
import { appendFile, mkdir, stat, writeFile } from "node:fs/promises";
import { hostname, userInfo } from "node:os";
import { basename, dirname } from "node:path";
import {
  findIdentities,
  keyFilePath,
  parseIdentities,
  readRecipients,
  recipientsFileFor,
  type Identities,
} from "./identity.ts";
import { EMPTY_PLAINTEXT } from "./plaintext.ts";
import { secretsPath, writeSecretsText, type SecretsOptions } from "./store.ts";
import { ageLib } from "./age.ts";

export interface InitResult {
  /** The key file written, when a new key was generated. */
  keyCreated?: string;
  /** Where the key in use came from (path or "$LAB_AGE_KEY"). */
  keySource: string;
  /** Our public key. */
  recipient: string;
  recipientsFile: string;
  recipientsChange: "created" | "added" | "unchanged";
  secretsFile: string;
  secretsCreated: boolean;
}

export async function initSecrets(opts: SecretsOptions = {}): Promise<InitResult> {
  let ids = await findIdentities(opts, true);
  let keyCreated: string | undefined;
  if (!ids) {
    ({ ids, keyCreated } = await createKey(keyFilePath(opts)));
  }
  const recipient = ids.recipients[0] as string;

  const secretsFile = secretsPath(opts);
  const recipientsFile = recipientsFileFor(secretsFile);
  const existing = await readRecipients(recipientsFile);
  let recipientsChange: InitResult["recipientsChange"] = "unchanged";
  const who = `# ${userInfo().username}@${hostname()}\n${recipient}\n`;
  if (!existing) {
    await writeFile(
      recipientsFile,
      `# Public age keys that can decrypt ${basename(secretsFile)}, one per line.\n${who}`,
      { flag: "wx" },
    );
    recipientsChange = "created";
  } else if (!ids.recipients.some((r) => existing.includes(r))) {
    // Only a public key: joining is harmless until a current holder re-encrypts.
    await appendFile(recipientsFile, who);
    recipientsChange = "added";
  }

  let secretsCreated = false;
  if (!(await exists(secretsFile))) {
    await writeSecretsText(EMPTY_PLAINTEXT, opts, ids);
    secretsCreated = true;
  }
  return {
    keyCreated,
    keySource: ids.source,
    recipient,
    recipientsFile,
    recipientsChange,
    secretsFile,
    secretsCreated,
  };
}

async function createKey(file: string): Promise<{ ids: Identities; keyCreated: string }> {
  const key = await (await ageLib()).generateIdentity();
  const ids = await parseIdentities(key, file);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // age-keygen's format, so `age -d -i` reads it too. "wx": never clobber a key.
  const text = `# created: ${new Date().toISOString()}\n# public key: ${ids.recipients[0]}\n${key}\n`;
  await writeFile(file, text, { flag: "wx", mode: 0o600 });
  return { ids, keyCreated: file };
}

const exists = (file: string): Promise<boolean> =>
  stat(file).then(
    () => true,
    (e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? false : Promise.reject(e)),
  );
