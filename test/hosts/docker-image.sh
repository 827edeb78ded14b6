#!/usr/bin/env bash
# Builds lab-testhost-docker:bookworm (test/hosts/docker/Dockerfile) FROM the plain
# test-host image: Debian's docker CLI + docker-compose 1.29.2, no engine of its own.
# Cached: skipped when the image exists with the label of this recipe's hash.
#
# Usage: test/hosts/docker-image.sh [--force]   (env: LAB_TESTHOST_DOCKER_IMAGE)
set -euo pipefail
export DOCKER_BUILDKIT=0  # the legacy builder, quietly (buildx is not in Debian 12)
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IMAGE="${LAB_TESTHOST_DOCKER_IMAGE:-lab-testhost-docker:bookworm}"
BASE="${LAB_TESTHOST_IMAGE:-lab-testhost:bookworm}"
HASH=$(cat "$HERE/docker/Dockerfile" "$HERE/docker-image.sh" | sha256sum | cut -c1-16)
log() { echo "docker-image: $*" >&2; }
current() { docker image inspect -f '{{ index .Config.Labels "lab.recipe" }}' "$IMAGE" 2>/dev/null || true; }
[[ "${1:-}" != "--force" && "$(current)" == "$HASH" ]] && exit 0

bash "$HERE/build-image.sh"
mkdir -p "$HERE/../../.cache/testhost"
exec 9>"$HERE/../../.cache/testhost/docker-image.lock"
flock 9
[[ "${1:-}" != "--force" && "$(current)" == "$HASH" ]] && exit 0
log "building $IMAGE from $BASE (apt: docker.io docker-compose) ..."
T0=$(date +%s)
docker build --network host -q --build-arg "BASE=$BASE" --label "lab.recipe=$HASH" -t "$IMAGE" "$HERE/docker" >/dev/null
log "built $IMAGE in $(( $(date +%s) - T0 )) s"
