#!/usr/bin/env bash
# The test command (`npm test`): installs what the tests need when missing
# (Debian packages, dockerd, node_modules, the test-host images), then runs the
# static checks, the unit tier and the integration tier against real hosts.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-deps.sh
bash test/hosts/build-image.sh
# The database and backup hosts of the pgBackRest tests (PostgreSQL 15 + pgBackRest from Debian).
bash test/hosts/pg-image.sh
echo "== typecheck"; npx tsc --noEmit -p .
echo "== lint"; npx eslint .
echo "== format"; npx prettier --check --log-level warn "**/*.{ts,mts,mjs,js}"
# One integration run per machine at a time: the test hosts use fixed names and addresses.
exec 9>/tmp/lab-integration.lock
flock 9
echo "== tests"; npx vitest run "$@"
