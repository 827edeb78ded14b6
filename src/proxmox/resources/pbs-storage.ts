// A Proxmox Backup Server datastore as Proxmox storage (type pbs): the PBS
// server's certificate pinned by fingerprint, an API token to log in, and the
// client-side encryption key, both from secrets. Proxmox never returns the
// password or the key, so they are sent when the storage is created (and when
// `rotate` asks for it), never compared; everything else is diffed key by key.
import { defined, valueChange } from "../../resources/attrs-diff.ts";
import { SENSITIVE } from "../../engine/types.ts";
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Change, HostCtx, Resource } from "../../engine/types.ts";
import { ExitCode, LabError } from "../../errors.ts";
import { Type, type Static } from "@sinclair/typebox";
import { SecretText, closed } from "../../resources/options.ts";
import { isMissing, type ParamsFor, type PveApi, type Reply } from "./api.ts";
import { checkWant } from "./check.ts";

export const PbsStorageWant = Type.Object(
  {
    /** Storage id in Proxmox, e.g. "pbs-lab". */
    storage: Type.String({ minLength: 1 }),
    server: Type.String({ minLength: 1 }),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    datastore: Type.String({ minLength: 1 }),
    namespace: Type.Optional(Type.String()),
    /** The PBS API token id: user@realm!token. */
    username: Type.String({ minLength: 1 }),
    /** The token's secret (secrets.age). */
    password: SecretText,
    /** SHA-256 fingerprint of the PBS certificate (pinned), or the self-signed certificate to take it from (read when planning). */
    fingerprint: Type.Union([Type.String(), Type.Object({ certFile: Type.String() }, closed)]),
    /** Client-side encryption key (a PBS key file's JSON, secrets.age); absent: backups are not encrypted. */
    encryptionKey: Type.Optional(SecretText),
    /** Send the password and the key again (they cannot be read back to compare). */
    rotate: Type.Optional(Type.Boolean()),
  },
  closed,
);
export type PbsStorageWant = Static<typeof PbsStorageWant>;

export interface PbsStorageHave {
  config: Reply<"/storage/{storage}"> | undefined;
  /** The fingerprint to pin (from the want, or read from its certificate file). */
  fingerprint: string;
}

/** "AA:BB:..." of a PEM certificate: what Proxmox pins for a pbs storage. */
export async function certFingerprint(file: string): Promise<string> {
  try {
    return new X509Certificate(await readFile(file)).fingerprint256;
  } catch (e) {
    throw new LabError(
      `cannot read the PBS certificate ${file}: ${(e as Error).message}`,
      ExitCode.badInput,
      { file },
      "set pbs.<endpoint>.fingerprint, or ca_file to the server's own (self-signed) certificate",
    );
  }
}

/** Keys Proxmox lets a PUT change; the datastore is fixed once the storage exists (PBSPlugin: fixed). */
/** A storage config value as text (the schema types GET /storage/{storage} only as an object). */
const str = (v: unknown): string => (typeof v === "string" || typeof v === "number" ? String(v) : "");

const COMPARED = ["server", "port", "namespace", "username", "fingerprint"] as const;

export function pbsStorage(
  pve: (ctx: HostCtx) => Promise<PveApi>,
  want: PbsStorageWant,
): Resource<PbsStorageWant, PbsStorageHave> {
  checkWant("pbsStorage", PbsStorageWant, want);
  return {
    id: `pve:storage/${want.storage}`,
    want,
    async read(ctx) {
      const fingerprint =
        typeof want.fingerprint === "string" ? want.fingerprint : await certFingerprint(want.fingerprint.certFile);
      try {
        return { config: await (await pve(ctx)).get("/storage/{storage}", { storage: want.storage }), fingerprint };
      } catch (e) {
        if (isMissing(e)) return { config: undefined, fingerprint };
        throw e;
      }
    },
    diff: pbsStorageDiff,
    async apply(ctx, changes, have) {
      const api = await pve(ctx);
      const secrets =
        !have.config || want.rotate
          ? { password: want.password.reveal(), "encryption-key": want.encryptionKey?.reveal() }
          : {};
      if (!have.config) {
        await api.post("/storage", {
          storage: want.storage,
          type: "pbs",
          content: "backup",
          server: want.server,
          port: want.port,
          datastore: want.datastore,
          namespace: want.namespace,
          username: want.username,
          fingerprint: have.fingerprint,
          ...secrets,
        } satisfies ParamsFor<"POST", "/storage">);
        return;
      }
      const changed = new Set(changes.map((c) => c.key));
      const wanted = { ...want, fingerprint: have.fingerprint };
      const set = <K extends (typeof COMPARED)[number]>(k: K) => (changed.has(k) ? wanted[k] : undefined);
      await api.put("/storage/{storage}", {
        storage: want.storage,
        server: set("server"),
        port: set("port"),
        namespace: set("namespace"),
        username: set("username"),
        fingerprint: set("fingerprint"),
        content: changed.has("content") ? "backup" : undefined,
        ...secrets,
      } satisfies ParamsFor<"PUT", "/storage/{storage}">);
    },
    ok: (have) =>
      `storage ${want.storage} is PBS datastore ${str(have.config?.datastore) || "?"} on ${want.server}, certificate pinned`,
  };
}

export function pbsStorageDiff(want: PbsStorageWant, state: PbsStorageHave): Change[] {
  const have = state.config;
  if (!have)
    return [
      valueChange(
        "create",
        `add PBS storage ${want.storage}: datastore ${want.datastore} on ${want.server}${want.encryptionKey ? ", encrypted" : ""}`,
        null,
        // password and encryptionKey are Secrets: the report shows them as the marker.
        defined({ ...want, fingerprint: state.fingerprint, content: "backup" }),
      ),
    ];
  const out: Change[] = [];
  if (have.type !== "pbs")
    throw new LabError(
      `storage ${want.storage} exists with type ${str(have.type)}, not pbs`,
      ExitCode.failed,
      {},
      "lab does not convert storage: choose another storage id",
    );
  if (str(have.datastore) !== want.datastore) {
    throw new LabError(
      `storage ${want.storage} points at datastore ${str(have.datastore)}, not ${want.datastore}`,
      ExitCode.failed,
      {},
      "Proxmox cannot change a PBS storage's datastore: remove the storage (its backups stay on the PBS) or choose another storage id",
    );
  }
  const wanted = { ...want, fingerprint: state.fingerprint };
  for (const k of COMPARED) {
    const w = wanted[k];
    const h = str(have[k]);
    if (w !== undefined && h !== String(w))
      out.push(valueChange(k, `${k} ${h || "(none)"} -> ${String(w)}`, have[k], w));
  }
  const content = str(have.content).split(",").filter(Boolean);
  if (!content.includes("backup"))
    out.push(valueChange("content", `content ${content.join(",") || "(none)"} -> backup`, have.content, "backup"));
  if (want.rotate)
    out.push(
      valueChange("secrets", "send the token secret and encryption key again (rotate)", SENSITIVE, SENSITIVE, {
        sensitive: true,
      }),
    );
  return out;
}
