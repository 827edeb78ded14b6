#!/usr/bin/env bash
# Builds a test-host image FROM the plain one (test/hosts/build-image.sh) out of
# test/hosts/DIR/Dockerfile, packages installed by apt inside from the machine's own
# mirror (build-arg MIRROR, from scripts/lib/debian-mirror.sh: never written into the
# repository). Cached: skipped when the image carries the label of this recipe's hash.
# pg-image.sh, docker-image.sh and services-image.sh name the images.
#
# Usage: test/hosts/derived-image.sh DIR IMAGE "WHAT IT INSTALLS" [--force]
#   (env: LAB_TESTHOST_IMAGE, the base; LAB_DEBIAN_MIRROR)
set -euo pipefail
export DOCKER_BUILDKIT=0  # the legacy builder, quietly (buildx is not in Debian 12)
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DIR="$1" IMAGE="$2" WHAT="$3" FORCE="${4:-}"
BASE="${LAB_TESTHOST_IMAGE:-lab-testhost:bookworm}"
HASH=$(cat "$HERE/$DIR/Dockerfile" "$HERE/derived-image.sh" | sha256sum | cut -c1-16)
log() { echo "$DIR-image: $*" >&2; }
current() { docker image inspect -f '{{ index .Config.Labels "lab.recipe" }}' "$IMAGE" 2>/dev/null || true; }
[[ "$FORCE" != "--force" && "$(current)" == "$HASH" ]] && exit 0

bash "$HERE/build-image.sh"
mkdir -p "$ROOT/.cache/testhost"
exec 9>"$ROOT/.cache/testhost/$DIR-image.lock"
flock 9
[[ "$FORCE" != "--force" && "$(current)" == "$HASH" ]] && exit 0
MIRROR="$(bash "$ROOT/scripts/lib/debian-mirror.sh")"
log "building $IMAGE from $BASE (apt: $WHAT) ..."
T0=$(date +%s)
docker build --network host -q --build-arg "BASE=$BASE" --build-arg "MIRROR=$MIRROR" --label "lab.recipe=$HASH" -t "$IMAGE" "$HERE/$DIR" >/dev/null
log "built $IMAGE in $(( $(date +%s) - T0 )) s"
