#!/usr/bin/env bash
# Mutation testing (StrykerJS + its vitest runner) of the security-critical modules
# against the unit tier only (stryker.config.mjs; scores in docs/mutation.md).
# Not part of `npm test`: it takes minutes. Usage: scripts/mutation.sh [stryker args...]
#   LAB_MUTATE=src/sh.ts scripts/mutation.sh     # one module
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec npx stryker run "$@"
