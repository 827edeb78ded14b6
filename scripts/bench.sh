#!/usr/bin/env bash
# `npm run bench`: lab vs ansible-playbook vs the OpenSSH floor on 10 and 25 real
# sshd container hosts (127.0.30.x only). Prints a table and writes it to
# bench/results/latest.md; then backups and drills (bench/backup-bench.ts; skip with
# LAB_BENCH_BACKUPS=0). Method and a recorded result: docs/bench.md.
#
# Usage: scripts/bench.sh [--sizes 10,25] [--reps 3] [--out FILE]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { echo "bench: $*" >&2; }

# Docker, ansible, OpenSSH client, node_modules.
bash scripts/ensure-deps.sh
# GNU time for the peak RSS ("Maximum resident set size").
if [[ ! -x /usr/bin/time ]]; then
  log "installing GNU time"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends time; } >/dev/null
fi

# The hosts go away however the bench ends (the driver removes them too).
cleanup() {
  local ids prefix
  for prefix in lab-bench lab-bench-pg; do
    ids=$(docker ps -aq --filter label=lab.testhost.prefix=$prefix 2>/dev/null || true)
    if [[ -n $ids ]]; then
      # shellcheck disable=SC2086 # one id per word
      docker rm -f $ids >/dev/null 2>&1 || true
    fi
  done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$ROOT/node_modules/.bin/tsx" bench/bench.ts "$@"
# Backups and drills on real PostgreSQL + pgBackRest (127.0.38.x): WAL lag under load,
# `lab backup` time, the drill's RTO/RPO next to a bare restore (bench/results/backup-latest.md).
[[ "${LAB_BENCH_BACKUPS:-1}" == 0 ]] || "$ROOT/node_modules/.bin/tsx" bench/backup-bench.ts
