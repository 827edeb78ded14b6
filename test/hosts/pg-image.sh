#!/usr/bin/env bash
# Builds lab-testhost-pg:bookworm (test/hosts/pg/Dockerfile) FROM the plain test-host
# image: Debian 12's postgresql-15 and pgbackrest (2.45) installed by apt inside, from
# the machine's own mirror. Cached: skipped when the image exists with the label of
# this recipe's hash.
#
# Usage: test/hosts/pg-image.sh [--force]   (env: LAB_TESTHOST_PG_IMAGE, LAB_DEBIAN_MIRROR)
set -euo pipefail
export DOCKER_BUILDKIT=0  # the legacy builder, quietly (buildx is not in Debian 12)
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
IMAGE="${LAB_TESTHOST_PG_IMAGE:-lab-testhost-pg:bookworm}"
BASE="${LAB_TESTHOST_IMAGE:-lab-testhost:bookworm}"
HASH=$(cat "$HERE/pg/Dockerfile" "$HERE/pg-image.sh" | sha256sum | cut -c1-16)
log() { echo "pg-image: $*" >&2; }
current() { docker image inspect -f '{{ index .Config.Labels "lab.recipe" }}' "$IMAGE" 2>/dev/null || true; }
[[ "${1:-}" != "--force" && "$(current)" == "$HASH" ]] && exit 0

bash "$HERE/build-image.sh"
mkdir -p "$ROOT/.cache/testhost"
exec 9>"$ROOT/.cache/testhost/pg-image.lock"
flock 9
[[ "${1:-}" != "--force" && "$(current)" == "$HASH" ]] && exit 0
MIRROR="$(bash "$ROOT/scripts/lib/debian-mirror.sh")"
log "building $IMAGE from $BASE (apt: postgresql-15 pgbackrest) ..."
T0=$(date +%s)
docker build --network host -q --build-arg "BASE=$BASE" --build-arg "MIRROR=$MIRROR" --label "lab.recipe=$HASH" -t "$IMAGE" "$HERE/pg" >/dev/null
log "built $IMAGE in $(( $(date +%s) - T0 )) s"
