// What is on the host for one stack, read in the host's batched fact round trip:
// the revision links, the current revision's files (hashes; contents only of
// files that are not secret, for plan diffs), the local images and the project's
// containers.
import type { Fact } from "../../engine/types.ts";
import { raw, sh } from "../../sh.ts";
import { containersCommand, parseContainers, type ContainerState } from "./containers.ts";

export interface OnHostFile {
  mode: string;
  sha256: string;
  /** Only for files the caller asked to show (never secret ones), up to 256 KiB. */
  content?: string;
}

export interface StackDirState {
  /** Revision the `current` link names ("rev-..."), if any. */
  current?: string;
  previous?: string;
  /** Every rev-* directory. */
  revisions: string[];
  /** Files of the current revision by relative name. */
  files: Record<string, OnHostFile>;
  /** Local images: "repo:tag" -> id. */
  images: Record<string, string>;
  containers: ContainerState[];
  /** The Docker engine did not answer (docker ps/images failed). */
  dockerDown: boolean;
  /** What Compose said about the current revision when it was applied (see desired.ts). */
  cache?: string;
}

/** In a revision directory: Compose's hashes and images for it, written after a successful apply. */
export const PROBE_CACHE = ".lab-probe";

const MAX_CONTENT = 256 * 1024;

/** dir: the stack's directory (e.g. /opt/lab/stacks/wiki); show: names whose content may be read back. */
export function stackDirFact(dir: string, project: string, show: readonly string[]): Fact<StackDirState> {
  return {
    key: `compose-stack:${dir}:${project}:${show.join(",")}`,
    command: sh`D=${dir}
cur=$(readlink "$D/current" 2>/dev/null) || cur=
prev=$(readlink "$D/previous" 2>/dev/null) || prev=
echo "current $cur"
echo "previous $prev"
printf 'revisions'; for r in "$D"/rev-*; do [ -d "$r" ] && printf ' %s' "\${r##*/}"; done; echo
if [ -n "$cur" ] && [ -d "$D/$cur" ] && cd "$D/$cur"; then
  find . -type f ! -name '.lab-*' | sort | while IFS= read -r f; do f=\${f#./}; printf 'file %s %s %s\\n' "$f" "$(stat -c %a "$f")" "$(sha256sum < "$f" | cut -c1-64)"; done
  for f in ${show}; do
    if [ -f "$f" ] && [ "$(stat -c %s "$f")" -le ${MAX_CONTENT} ]; then printf 'content %s %s\\n' "$f" "$(base64 < "$f" | tr -d '\\n')"; fi
  done
  if [ -f ${PROBE_CACHE} ]; then echo @@cache; cat ${PROBE_CACHE}; echo @@endcache; fi
fi
echo @@images
docker images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}' || echo @@docker-error
echo @@containers
( ${containersCommandRaw(project)} ) || echo @@docker-error`,
    parse: parseStackDir,
  };
}

// The containers command is already quoted: splice it in as is.
const containersCommandRaw = (project: string) => raw(containersCommand(project));

export function parseStackDir(stdout: string): StackDirState {
  const [head0 = "", rest = ""] = split(stdout, "@@images\n");
  const [before = "", cacheAndAfter = ""] = split(head0, "@@cache\n");
  const [cache, after = ""] = cacheAndAfter ? split(cacheAndAfter, "@@endcache\n") : [undefined, ""];
  const head = before + after;
  const [imagesPart = "", containersPart = ""] = split(rest, "@@containers\n");
  const state: StackDirState = {
    revisions: [],
    files: {},
    images: {},
    containers: [],
    dockerDown: stdout.includes("@@docker-error"),
    ...(cache ? { cache } : {}),
  };
  for (const line of head.split("\n")) {
    const [kind, ...f] = line.split(" ");
    if (kind === "current" && f[0]) state.current = f[0];
    else if (kind === "previous" && f[0]) state.previous = f[0];
    else if (kind === "revisions") state.revisions = f.filter(Boolean);
    else if (kind === "file" && f.length === 3) state.files[f[0]!] = { mode: f[1]!.padStart(4, "0"), sha256: f[2]! };
    else if (kind === "content" && f[0] && state.files[f[0]])
      state.files[f[0]]!.content = Buffer.from(f[1] ?? "", "base64").toString("utf8");
  }
  for (const line of imagesPart.split("\n")) {
    const [ref, id] = line.trim().split(" ");
    if (ref && id && !ref.includes("<none>")) state.images[ref] = id;
  }
  if (!state.dockerDown) state.containers = parseContainers(containersPart);
  return state;
}

function split(text: string, marker: string): [string, string] {
  const i = text.indexOf(marker);
  return i < 0 ? [text, ""] : [text.slice(0, i), text.slice(i + marker.length)];
}

/** "nginx" -> "nginx:latest", "docker.io/library/x:1" -> "x:1": the form `docker images` lists. */
export function normalizeImage(ref: string): string {
  let r = ref.replace(/^docker\.io\//, "").replace(/^library\//, "");
  if (r.includes("@")) return r;
  const slash = r.lastIndexOf("/");
  if (!r.slice(slash + 1).includes(":")) r += ":latest";
  return r;
}
