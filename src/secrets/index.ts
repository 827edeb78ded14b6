// The secrets API in one import.
export { Redactor, redact, Secret, isSecret } from "./secret.ts";
export {
  loadSecrets,
  readSecretsText,
  secretsPath,
  writeSecretsText,
  type SecretStore,
  type SecretsOptions,
} from "./store.ts";
export { initSecrets, type InitResult } from "./init.ts";
export { defaultKeyFile, findIdentities, keyFilePath, type Identities, type KeyOptions } from "./identity.ts";
export { MIN_SECRET_LENGTH } from "./plaintext.ts";
