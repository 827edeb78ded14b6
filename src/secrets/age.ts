// Thin wrapper over age-encryption: ASCII-armored files (diffable, safe in Git)
// and age's errors turned into LabErrors that say what to do.
/** Loaded on first use: most runs never decrypt anything, and the library costs start-up time. */
export const ageLib = () => import("age-encryption");
import { badInput, ExitCode, LabError } from "../errors.ts";
import { NO_KEY_HINT, type Identities } from "./identity.ts";

export async function encryptText(text: string, recipients: readonly string[]): Promise<string> {
  const { Encrypter, armor } = await ageLib();
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  return armor.encode(await e.encrypt(text));
}

/** `name` is the file's display name for messages. */
export async function decryptText(data: Uint8Array, ids: Identities, name: string): Promise<string> {
  const { Decrypter, armor } = await ageLib();
  const d = new Decrypter();
  for (const k of ids.keys) d.addIdentity(k);
  // Accept both armored (what we write) and binary (`age -o`) files.
  const head = new TextDecoder().decode(data.subarray(0, 64)).trimStart();
  let bytes = data;
  try {
    if (head.startsWith("-----BEGIN AGE ENCRYPTED FILE-----")) bytes = armor.decode(new TextDecoder().decode(data));
    return await d.decrypt(bytes, "text");
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/no identity matched/.test(msg)) {
      throw new LabError(
        `cannot decrypt ${name}: no identity matches (your key ${ids.recipients.join(", ")} from ${ids.source} is not a recipient)`,
        ExitCode.badInput,
        {},
        `${NO_KEY_HINT}; or ask a key holder to add your public key to .age-recipients and run \`lab secrets rekey\``,
      );
    }
    throw badInput(
      `cannot decrypt ${name}: not a valid age file or corrupted (${msg})`,
      {},
      "restore it from Git (`git checkout -- <file>`)",
    );
  }
}
