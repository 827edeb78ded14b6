// Storage: cluster storage.cfg (incl. PBS storages), per-node status and
// content, volume delete, and download-url, which really downloads the URL
// (tests serve images from 127.0.0.1) and verifies the checksum.
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Call, Routes } from "../context.ts";
import { deleteList, flag, need, node, settings, str } from "../context.ts";
import { fail, paramError } from "../errors.ts";
import { checkPrivs, hasPriv } from "../permissions.ts";
import type { Item, SimState, Volume } from "../state.ts";
import { addVolume, findVolume, isShared, now, removeVolume, storageOf, volumeOnNode } from "../vm.ts";
import { pbsSnapshotVolumes } from "../pbs-store.ts";
import { pbsLogin, pbsPrivileges } from "../pbs-acl.ts";

const TiB = 1024 ** 4;
const FIXED_KEYS = ["storage", "type", "total"];

export function storageUsage(state: SimState, sid: string): { total: number; used: number } {
  const total = Number(state.storage[sid]?.total ?? TiB);
  const used = (state.volumes[sid] ?? []).reduce((n, v) => n + v.size, 0);
  return { total, used: Math.min(used, total) };
}

const visible = (c: Call, sid: unknown): boolean =>
  hasPriv(c.sim.state, c.auth, `/storage/${String(sid)}`, "Datastore.Audit") ||
  hasPriv(c.sim.state, c.auth, `/storage/${String(sid)}`, "Datastore.AllocateSpace");
const contents = (cfg: Item): string[] =>
  String(cfg.content ?? "")
    .split(",")
    .filter(Boolean);

function nodeStorage(c: Call): Item[] {
  node(c);
  const { state } = c.sim;
  const want = str(c, "content")?.split(",");
  const only = str(c, "storage");
  return Object.values(state.storage)
    .filter((cfg) => visible(c, cfg.storage))
    .filter((cfg) => (!only || cfg.storage === only) && (!want || want.some((w) => contents(cfg).includes(w))))
    .filter((cfg) => !flag(c, "enabled") || !Number(cfg.disable ?? 0))
    .map((cfg) => {
      const u = storageUsage(state, String(cfg.storage));
      return {
        storage: String(cfg.storage),
        type: String(cfg.type),
        content: contents(cfg).join(","),
        active: 1,
        enabled: Number(cfg.disable ?? 0) ? 0 : 1,
        shared: isShared(state, String(cfg.storage)) ? 1 : 0,
        total: u.total,
        used: u.used,
        avail: u.total - u.used,
        used_fraction: u.used / u.total,
      };
    });
}

function volumesOf(c: Call): Volume[] {
  const sid = need(c, "storage");
  const cfg = storageOf(c.sim.state, sid);
  return cfg.type === "pbs" ? pbsSnapshotVolumes(c.sim.state, sid) : (c.sim.state.volumes[sid] ?? []);
}

function content(c: Call): Record<string, unknown>[] {
  const n = node(c);
  const kind = str(c, "content");
  const vmid = str(c, "vmid");
  return volumesOf(c)
    .filter((v) => volumeOnNode(c.sim.state, v, n))
    .filter((v) => (!kind || v.content === kind) && (!vmid || String(v.vmid) === vmid))
    .map(({ file: _f, backup: _b, node: _n, ...v }) => v);
}

function deleteVolume(c: Call): string {
  const n = node(c);
  const volid = need(c, "volume").includes(":") ? need(c, "volume") : `${need(c, "storage")}:${need(c, "volume")}`;
  const vol = findVolume(c.sim.state, volid);
  if (!vol) throw fail(`volume '${volid}' does not exist`);
  const backupOk =
    vol.content === "backup" &&
    hasPriv(c.sim.state, c.auth, `/storage/${volid.split(":")[0]}`, "Datastore.AllocateSpace") &&
    hasPriv(c.sim.state, c.auth, `/vms/${vol.vmid}`, "VM.Backup");
  if (!backupOk) checkPrivs(c.sim.state, c.auth, `/storage/${volid.split(":")[0]}`, ["Datastore.Allocate"]);
  const inUse = Object.values(c.sim.state.vms).find((vm) =>
    Object.values(vm.config).some((v) => v.split(",")[0] === volid),
  );
  if (inUse) throw fail(`unable to delete volume '${volid}' - volume is still in use by VM ${inUse.vmid}`);
  const id = `${vol.vmid ?? ""}@${volid.split(":")[0]}`;
  return c.sim.tasks.start({ node: n, type: "imgdel", id, auth: c.auth }, async (t) => {
    await t.step();
    removeVolume(c.sim.state, volid);
  });
}

const EXTENSIONS: Record<string, RegExp> = {
  iso: /\.(iso|img)$/i,
  vztmpl: /\.tar\.(gz|xz|zst|bz2)$/i,
  import: /\.(qcow2|raw|vmdk|img|ova)$/i,
};

function downloadUrl(c: Call): string {
  const n = node(c);
  const { state } = c.sim;
  const sid = need(c, "storage");
  const cfg = storageOf(state, sid);
  const kind = need(c, "content");
  const filename = need(c, "filename");
  if (!EXTENSIONS[kind]!.test(filename) || filename.includes("/"))
    throw paramError({ filename: "invalid filename or wrong extension" });
  if (!contents(cfg).includes(kind)) throw fail(`storage '${sid}' does not support content-type '${kind}'`);
  const volid = `${sid}:${kind}/${filename}`;
  if (findVolume(state, volid, n)) throw fail(`refusing to override existing file '${filename}'`);
  const url = need(c, "url");
  if (url.startsWith("https:") && flag(c, "verify-certificates") === false) {
    throw fail("verify-certificates=0 is not supported by the lab simulator");
  }
  return c.sim.tasks.start(
    { node: n, type: "download", id: filename.replace(/[:\s]/g, "_"), auth: c.auth },
    async (t) => {
      t.log(`downloading ${url} to ${filename}`);
      const res = await fetch(url);
      if (!res.ok) throw new Error(`download failed: ${res.status} ${res.statusText}`);
      const bytes = Buffer.from(await res.arrayBuffer());
      t.log(`download of '${url}' finished (${bytes.length} bytes)`);
      const algorithm = str(c, "checksum-algorithm");
      if (algorithm) {
        const got = createHash(algorithm).update(bytes).digest("hex");
        const expected = need(c, "checksum").toLowerCase();
        if (got !== expected) throw new Error(`checksum mismatch: got '${got}' != expect '${expected}'`);
        t.log(`calculating checksum...OK, checksum verified`);
      }
      await t.step();
      const dir = join(c.sim.stateDir, "files", sid, kind);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, filename);
      writeFileSync(file, bytes);
      addVolume(
        state,
        {
          volid,
          content: kind,
          format: filename.split(".").pop()!,
          size: bytes.length,
          ctime: now(),
          file,
        },
        n,
      );
    },
  );
}

function storageConfig(c: Call): Item {
  const cfg = storageOf(c.sim.state, need(c, "storage"));
  const { total: _t, ...rest } = cfg;
  return { ...rest, digest: createHash("sha1").update(JSON.stringify(cfg)).digest("hex") };
}

function createStorage(c: Call): Record<string, unknown> {
  const { state } = c.sim;
  const sid = need(c, "storage");
  if (state.storage[sid]) throw fail(`storage ID '${sid}' already defined`);
  const values: Item = settings(c, ["storage", "type"], ["password", "encryption-key", "keyring", "master-pubkey"]);
  const type = need(c, "type");
  if (type === "pbs") checkPbsReachable(c, values);
  const key = type === "pbs" ? encryptionKey(c) : undefined;
  if (str(c, "master-pubkey") && !key) throw fail("'master-pubkey' can only be used together with 'encryption-key'");
  state.storage[sid] = {
    storage: sid,
    type,
    ...values,
    content: values.content ?? (type === "pbs" ? "backup" : "images"),
  };
  state.volumes[sid] ??= [];
  if (str(c, "password")) state.storageSecrets[sid] = str(c, "password")!;
  if (key) {
    // PBSPlugin on_add_hook: the key goes to /etc/pve/priv/storage/<id>.enc, storage.cfg keeps only its fingerprint.
    state.storageSecrets[`${sid}.enc`] = key.json;
    state.storage[sid]["encryption-key"] = key.fingerprint;
    if (str(c, "master-pubkey")) state.storage[sid]["master-pubkey"] = 1;
    return { storage: sid, type, config: { "encryption-key": key.json } };
  }
  return { storage: sid, type };
}

/** `encryption-key`: a PBS key file's JSON, or `autogen` (a new key without passphrase, returned once). */
function encryptionKey(c: Call): { json: string; fingerprint: string } | undefined {
  const given = str(c, "encryption-key");
  if (given === undefined) return undefined;
  if (given === "autogen") {
    const data = randomBytes(32);
    const fingerprint = keyFingerprint(data);
    const created = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    return {
      json: JSON.stringify(
        { kdf: null, created, modified: created, data: data.toString("base64"), fingerprint },
        null,
        2,
      ),
      fingerprint,
    };
  }
  let parsed: { data?: unknown; fingerprint?: unknown };
  try {
    parsed = JSON.parse(given) as typeof parsed;
  } catch {
    parsed = {};
  }
  if (typeof parsed !== "object" || parsed === null || parsed.data === undefined)
    throw fail("Value does not seems like a valid, JSON formatted encryption key!");
  return { json: given, fingerprint: typeof parsed.fingerprint === "string" ? parsed.fingerprint : "1" };
}

/** PBS key fingerprints: 32 bytes of SHA-256, as colon-separated hex pairs. */
const keyFingerprint = (data: Buffer): string =>
  createHash("sha256").update(data).digest("hex").match(/../g)!.join(":");

/** PVE contacts the PBS datastore on create; the simulator checks its own PBS side. */
function checkPbsReachable(c: Call, values: Item): void {
  const datastore = String(values.datastore ?? "");
  for (const key of ["server", "datastore", "username"]) {
    if (!values[key]) throw paramError({ [key]: "property is missing and it is not optional" });
  }
  if (values.fingerprint && String(values.fingerprint).toUpperCase() !== c.sim.fingerprint) {
    throw fail(`error fetching datastores - fingerprint '${c.sim.fingerprint}' not verified, abort!`);
  }
  // scan_datastores logs in with the storage's credentials and sees only the datastores it has privileges on.
  const auth = pbsLogin(c.sim.state, String(values.username), str(c, "password"));
  if (
    !c.sim.state.pbs.datastores[datastore] ||
    !pbsPrivileges(c.sim.state, auth.authid, `/datastore/${datastore}`).size
  )
    throw fail(`Cannot find datastore '${datastore}', check permissions and existence!`);
}

function updateStorage(c: Call): Record<string, unknown> {
  const sid = need(c, "storage");
  const cfg = storageOf(c.sim.state, sid);
  for (const key of deleteList(c)) {
    delete cfg[key];
    if (key === "encryption-key") delete c.sim.state.storageSecrets[`${sid}.enc`];
  }
  if (cfg.type === "pbs" && str(c, "encryption-key") !== undefined) {
    const key = encryptionKey(c)!;
    c.sim.state.storageSecrets[`${sid}.enc`] = key.json;
    cfg["encryption-key"] = key.fingerprint;
  }
  for (const [k, v] of Object.entries(
    settings(c, ["storage"], ["delete", "digest", "password", "encryption-key", "master-pubkey"]),
  )) {
    if (FIXED_KEYS.includes(k) || (cfg.type === "pbs" && (k === "server" || k === "datastore")))
      throw paramError({ [k]: "can't change value of fixed parameter" });
    cfg[k] = v;
  }
  if (str(c, "password")) c.sim.state.storageSecrets[sid] = str(c, "password")!;
  return { storage: sid, type: String(cfg.type) };
}

export const storageRoutes: Routes = {
  "GET /nodes/{node}/storage": nodeStorage,
  "GET /nodes/{node}/storage/{storage}/content": content,
  "DELETE /nodes/{node}/storage/{storage}/content/{volume}": deleteVolume,
  "POST /nodes/{node}/storage/{storage}/download-url": downloadUrl,
  "GET /nodes/{node}/storage/{storage}/status": (c) => {
    storageOf(c.sim.state, need(c, "storage"));
    return nodeStorage(c).find((s) => s.storage === need(c, "storage"));
  },
  "GET /storage": (c) =>
    Object.values(c.sim.state.storage)
      .filter((s) => visible(c, s.storage) && (!str(c, "type") || s.type === str(c, "type")))
      .map(({ total: _t, ...cfg }) => cfg),
  "POST /storage": createStorage,
  "GET /storage/{storage}": storageConfig,
  "PUT /storage/{storage}": updateStorage,
  "DELETE /storage/{storage}": (c) => {
    const sid = need(c, "storage");
    storageOf(c.sim.state, sid);
    delete c.sim.state.storage[sid];
    delete c.sim.state.storageSecrets[sid];
    delete c.sim.state.storageSecrets[`${sid}.enc`];
    return null;
  },
};
