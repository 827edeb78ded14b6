// What Compose itself makes of the wanted files, asked on the host: is the file
// valid (`config -q`), each service's config hash (`config --hash='*'`, the value
// Compose stores in the container label com.docker.compose.config-hash) and image.
// Files that are not yet the current revision are unpacked into a staging
// directory inside the stack's own 0700 directory (never /tmp: env files hold
// secrets) and removed again; one a dropped session leaves is pruned by the
// next apply.
import { parse as parseYaml } from "yaml";
import type { HostCtx } from "../../engine/types.ts";
import { ExitCode, LabError } from "../../errors.ts";
import { redact } from "../../secrets/secret.ts";
import { sh } from "../../sh.ts";
import { UNPACK, bundle, type StackFile } from "./files.ts";
import { composeIn, type ComposeFlavour } from "./flavour.ts";
import { timeoutMs } from "../../transport/timeouts.ts";

export interface DesiredService {
  /** Compose's config hash, when Compose could compute it (v1 needs the image present). */
  hash?: string;
  /** The hash depends on where the files are (a relative bind mount or build context): such a service
   * is recreated whenever the revision changes, since its mount path names the revision. */
  pathDependent: boolean;
  image?: string;
}

export interface Desired {
  /** `config -q` output when the files are not valid. */
  invalid?: string;
  services: Record<string, DesiredService>;
}

// Validation and the resolved config in ONE Compose run (`config` fails on an invalid file), then the hashes:
// Compose v1 starts slowly (a Python interpreter), so every run counts.
function body(f: ComposeFlavour, project: string, dir: string): string {
  const dc = (...args: string[]) => composeIn(f, project, dir, args);
  // On an invalid file, Compose runs again for its message: no temp file for stderr (it can quote values).
  return `if ! out=$(${dc("config")} 2>/dev/null); then echo @@invalid; ${dc("config")} 2>&1 >/dev/null | tail -n 20; exit 0; fi
echo @@valid
echo @@hash
${dc("config", "--hash=*")} 2>/dev/null || for s in $(${dc("config", "--services")}); do ${dc("config")} --hash="$s" 2>/dev/null || echo "$s ?"; done
echo @@config
printf '%s\\n' "$out"`;
}

/** In place: the wanted revision is already the current one on the host. */
export const probeInPlaceCommand = (f: ComposeFlavour, project: string, revDir: string): string =>
  sh`T=${revDir}
` +
  `cd "$T" || exit 3
${body(f, project, "$T")}`;

/**
 * Staged: unpack the files (stdin) into DIR/.probe.* (DIR made 0700 if new), named in the output
 * so path-dependent services can be told. Directories the probe had to create are removed again
 * (rmdir: only while empty), so a plan leaves the host as it was.
 */
export const probeStagedCommand = (f: ComposeFlavour, project: string, stackDir: string): string =>
  `${UNPACK}
${sh`D=${stackDir}`}
top=; p=$D; while [ ! -e "$p" ]; do top=$p; p=\${p%/*}; done
mkdir -p "$D" && chmod 0700 "$D" && T=$(mktemp -d "$D/.probe.XXXXXX") || exit 3
trap 'rm -rf "$T"; d=$D; while [ -n "$top" ] && rmdir "$d" 2>/dev/null && [ "$d" != "$top" ]; do d=\${d%/*}; done' EXIT
lab_unpack "$T" || exit 4
cd "$T" || exit 3
echo "@@dir"
echo "$T"
${body(f, project, "$T")}`;

/** `where`: the revision directory when the files are in place there, else the stack's directory to stage them in. */
export async function probeDesired(
  ctx: HostCtx,
  f: ComposeFlavour,
  project: string,
  files: readonly StackFile[],
  where: { inPlace: string } | { stackDir: string },
): Promise<Desired> {
  const inPlaceDir = "inPlace" in where ? where.inPlace : undefined;
  const cmd =
    "inPlace" in where
      ? probeInPlaceCommand(f, project, where.inPlace)
      : probeStagedCommand(f, project, where.stackDir);
  ctx.log.debug(`[${ctx.host.name}] $ ${cmd}`);
  const r = await ctx.transport.exec(cmd, {
    timeoutMs: timeoutMs("compose"),
    ...(inPlaceDir ? {} : { stdin: bundle(files) }),
  });
  if (!/^@@(in)?valid$/m.test(r.stdout)) {
    throw new LabError(
      `compose stack ${project}: could not check the compose file on the host (exit ${r.code}): ${redact(r.stderr.trim().split("\n").slice(-3).join(" / "))}`,
      ExitCode.failed,
      { host: ctx.host.name },
      "is the stacks' root writable and base64 (coreutils) installed?",
    );
  }
  return parseProbe(r.stdout);
}

export function parseProbe(stdout: string): Desired {
  const sections = new Map<string, string>();
  let name = "";
  for (const line of stdout.split("\n")) {
    const m = /^@@([a-z0-9]+)$/.exec(line);
    if (m) {
      name = m[1]!;
      sections.set(name, "");
    } else if (name) sections.set(name, `${sections.get(name)}${line}\n`);
  }
  if (sections.has("invalid")) return { invalid: (sections.get("invalid") ?? "").trim(), services: {} };
  const hashes = parseHashes(sections.get("hash") ?? "");
  const config = parseConfig(sections.get("config") ?? "");
  const tmpDir = (sections.get("dir") ?? "").trim();
  const services: Record<string, DesiredService> = {};
  for (const svc of new Set([...Object.keys(config), ...Object.keys(hashes)])) {
    const hash = hashes[svc];
    const def = config[svc] ?? {};
    const image = typeof def.image === "string" ? def.image : undefined;
    // Compose resolved relative paths against the temp dir: a service naming it has a path-dependent hash.
    const pathDependent = tmpDir !== "" && JSON.stringify(def).includes(tmpDir);
    services[svc] = { ...(hash ? { hash } : {}), pathDependent, ...(image ? { image } : {}) };
  }
  return { services };
}

/** `config --hash` output: "SERVICE HASH" per line ("SERVICE ?" when Compose could not compute it). */
export function parseHashes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^(\S+) ([0-9a-f]{64})$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** `config` output (YAML, v1 and v2): service -> its resolved definition. */
export function parseConfig(yamlText: string): Record<string, Record<string, unknown>> {
  const doc = (parseYaml(yamlText) ?? {}) as { services?: Record<string, Record<string, unknown> | null> };
  return Object.fromEntries(Object.entries(doc.services ?? {}).map(([svc, def]) => [svc, def ?? {}]));
}

// ---- The probe cache: what Compose said about a revision, kept in it after a successful apply. ----
// A revision's files never change (its name is their hash, and drift is caught by the file
// hashes), so its config hashes only change with Compose itself: the cache names the Compose
// version and is ignored for any other. Image ids are compared separately, every run.

const cacheHead = (f: ComposeFlavour) =>
  `lab-probe 1 ${f.kind} ${f.command === "docker compose" ? "plugin" : "standalone"} ${f.version}`;

export function cacheText(d: Desired, f: ComposeFlavour): string {
  const lines = [cacheHead(f)];
  for (const [svc, s] of Object.entries(d.services)) lines.push(`service ${svc} ${s.hash ?? "?"} ${s.image ?? "-"}`);
  return `${lines.join("\n")}\n`;
}

export function parseCache(text: string, f: ComposeFlavour): Desired | undefined {
  const [head, ...rest] = text.trim().split("\n");
  if (head !== cacheHead(f)) return undefined;
  const services: Record<string, DesiredService> = {};
  for (const line of rest) {
    const [kind, svc, hash, image] = line.split(" ");
    if (kind !== "service" || !svc || !hash || !image || !/^([0-9a-f]{64}|\?)$/.test(hash)) return undefined;
    services[svc] = { ...(hash !== "?" ? { hash } : {}), pathDependent: false, ...(image !== "-" ? { image } : {}) };
  }
  return Object.keys(services).length ? { services } : undefined;
}

/** After a successful apply: ask Compose about the (now current) revision and keep the answer in it. */
export async function writeCache(ctx: HostCtx, f: ComposeFlavour, project: string, revDir: string): Promise<void> {
  const d = await probeDesired(ctx, f, project, [], { inPlace: revDir });
  if (d.invalid !== undefined || Object.values(d.services).some((s) => !s.hash)) return;
  const r = await ctx.transport.exec(
    sh`cat > ${`${revDir}/.lab-probe.tmp`} && chmod 0600 ${`${revDir}/.lab-probe.tmp`} && mv -f ${`${revDir}/.lab-probe.tmp`} ${`${revDir}/.lab-probe`}`,
    { stdin: cacheText(d, f), timeoutMs: timeoutMs("compose") },
  );
  if (r.code !== 0)
    ctx.log.warn(
      `[${ctx.host.name}] compose stack ${project}: could not keep Compose's answers in ${revDir} (the next plan asks Compose again)`,
    );
}
