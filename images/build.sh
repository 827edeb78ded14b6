#!/usr/bin/env bash
# Builds the example stacks' images on the Docker engine this machine talks to.
# Nothing can be pulled here, so every image starts FROM scratch or FROM lab/busybox
# (a rootfs of Debian's busybox-static), plus binaries extracted from Debian 12
# packages (`apt-get download` + `dpkg-deb -x`; nothing is installed on the machine).
# Cached: an image is skipped when it exists with the label of its recipe's hash
# (its folder's files and the pinned package versions), so a re-run takes ~1 s.
#
# Usage: images/build.sh [NAME...]      (default: every folder under images/)
#        images/build.sh --list         (NAME TAG per image)
set -euo pipefail
export DOCKER_BUILDKIT=0  # the legacy builder, quietly (buildx is not in Debian 12)
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${LAB_IMAGES_CACHE:-$HERE/../.cache/images}"
log() { echo "images: $*" >&2; }

tag_of() { sed -n 's/^# tag: *//p' "$HERE/$1/Dockerfile"; }
all() { for d in "$HERE"/*/Dockerfile; do basename "$(dirname "$d")"; done; }
# Images this one is built FROM (lab/... tags), so they are built first.
deps_of() {
  local from; from=$(sed -n 's/^FROM *//p' "$HERE/$1/Dockerfile")
  for n in $(all); do [[ "$(tag_of "$n")" == "$from" ]] && echo "$n"; done; true
}

if [[ "${1:-}" == "--list" ]]; then for n in $(all); do echo "$n $(tag_of "$n")"; done; exit 0; fi

mkdir -p "$CACHE/debs"
exec 9>"$CACHE/build.lock"
flock 9

# Debian packages named in an image's `debs` file, downloaded once into the cache.
fetch_debs() {
  local pkgs=("$@") missing=() p
  for p in "${pkgs[@]}"; do compgen -G "$CACHE/debs/${p}_*.deb" >/dev/null || missing+=("$p"); done
  [[ ${#missing[@]} == 0 ]] && return 0
  log "apt-get download ${missing[*]}"
  (cd "$CACHE/debs" && { apt-get download -qq "${missing[@]}" 2>/dev/null || { apt-get update -qq && apt-get download -qq "${missing[@]}"; }; })
}

recipe_hash() {
  local n=$1
  { (cd "$HERE/$n" && find . -type f | LC_ALL=C sort | xargs sha256sum)
    [[ -f "$HERE/$n/debs" ]] && for p in $(cat "$HERE/$n/debs"); do basename "$(compgen -G "$CACHE/debs/${p}_*.deb" | head -1)"; done
    for d in $(deps_of "$n"); do recipe_hash "$d"; done; } | sha256sum | cut -c1-16
}

declare -A DONE=()
build() {
  local n=$1 tag hash ctx p
  [[ -n "${DONE[$n]:-}" ]] && return 0
  [[ -f "$HERE/$n/Dockerfile" ]] || { log "no image $n (have: $(all | tr '\n' ' '))"; exit 2; }
  for p in $(deps_of "$n"); do build "$p"; done
  [[ -f "$HERE/$n/debs" ]] && fetch_debs $(cat "$HERE/$n/debs")
  tag=$(tag_of "$n"); hash=$(recipe_hash "$n")
  DONE[$n]=1
  if [[ "$(docker image inspect -f '{{ index .Config.Labels "lab.recipe" }}' "$tag" 2>/dev/null || true)" == "$hash" ]]; then return 0; fi
  local t0; t0=$(date +%s)
  ctx=$(mktemp -d); trap 'rm -rf "$ctx"' RETURN
  cp -a "$HERE/$n/." "$ctx/"
  mkdir -p "$ctx/rootfs"
  if [[ -f "$HERE/$n/debs" ]]; then
    for p in $(cat "$HERE/$n/debs"); do dpkg-deb -x "$(compgen -G "$CACHE/debs/${p}_*.deb" | head -1)" "$ctx/rootfs"; done
  fi
  [[ -x "$ctx/prepare.sh" ]] && (cd "$ctx" && ./prepare.sh rootfs)
  # (the machine's newer docker CLI nags about the legacy builder on stderr: keep only real errors)
  docker build -q --network host --label "lab.recipe=$hash" --label "lab.image=$n" -t "$tag" "$ctx" 2>&1 >/dev/null \
    | { grep -v -e DEPRECATED -e BuildKit -e 'legacy builder' -e '^ *$' >&2 || true; }
  [[ ${PIPESTATUS[0]} == 0 ]] || { log "docker build of $tag failed"; exit 1; }
  log "built $tag in $(( $(date +%s) - t0 )) s"
}

names=("$@"); [[ ${#names[@]} == 0 ]] && mapfile -t names < <(all)
for n in "${names[@]}"; do build "$n"; done
