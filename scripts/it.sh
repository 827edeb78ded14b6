#!/usr/bin/env bash
# Runs integration test files (all by default) while holding the machine's
# integration lock: test hosts use fixed container names and loopback addresses,
# so two runs on one machine would collide.  Usage: scripts/it.sh [vitest args...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The tests run the real CLI: from a build of the current src/ (bin/build.mjs), or it starts slowly.
node bin/build.mjs --if-stale
exec 9>/tmp/lab-integration.lock
flock 9
exec npx vitest run --project integration "$@"
