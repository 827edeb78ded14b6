#!/usr/bin/env bash
# The fault-injection suite, seeded (docs/faults.md): starts its own test hosts
# (127.0.33.x, 127.0.34.x; containers lab-it-faults*), injects M faults chosen from
# seed N into real `lab apply` runs, prints the table; exit 1 on any violation.
# Usage: scripts/faults.sh [--seed N] [--count M] [--kinds 'kill -9,SIGHUP x2']
# Holds the machine's integration lock (the same container names and addresses).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash test/hosts/build-image.sh
exec 9>/tmp/lab-integration.lock
flock 9
exec npx tsx test/faults/main.ts "$@"
