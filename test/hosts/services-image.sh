#!/usr/bin/env bash
# Builds lab-testhost-services:bookworm (test/hosts/lab-services/Dockerfile) FROM the plain test-host
# image: the packages of the dns and updates roles installed by apt inside, from
# the machine's own mirror. Cached: skipped when the image exists with the label of
# this recipe's hash.
#
# Usage: test/hosts/services-image.sh [--force]   (env: LAB_TESTHOST_SERVICES_IMAGE, LAB_DEBIAN_MIRROR)
set -euo pipefail
export DOCKER_BUILDKIT=0  # the legacy builder, quietly (buildx is not in Debian 12)
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
IMAGE="${LAB_TESTHOST_SERVICES_IMAGE:-lab-testhost-services:bookworm}"
BASE="${LAB_TESTHOST_IMAGE:-lab-testhost:bookworm}"
HASH=$(cat "$HERE/lab-services/Dockerfile" "$HERE/services-image.sh" | sha256sum | cut -c1-16)
log() { echo "services-image: $*" >&2; }
current() { docker image inspect -f '{{ index .Config.Labels "lab.recipe" }}' "$IMAGE" 2>/dev/null || true; }
[[ "${1:-}" != "--force" && "$(current)" == "$HASH" ]] && exit 0

bash "$HERE/build-image.sh"
mkdir -p "$ROOT/.cache/testhost"
exec 9>"$ROOT/.cache/testhost/services-image.lock"
flock 9
[[ "${1:-}" != "--force" && "$(current)" == "$HASH" ]] && exit 0
MIRROR="$(bash "$ROOT/scripts/lib/debian-mirror.sh")"
log "building $IMAGE from $BASE (apt: dnsmasq unattended-upgrades bsd-mailx cron) ..."
T0=$(date +%s)
docker build --network host -q --build-arg "BASE=$BASE" --build-arg "MIRROR=$MIRROR" --label "lab.recipe=$HASH" -t "$IMAGE" "$HERE/lab-services" >/dev/null
log "built $IMAGE in $(( $(date +%s) - T0 )) s"
