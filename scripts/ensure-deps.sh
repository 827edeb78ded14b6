#!/usr/bin/env bash
# Installs everything the tests and the demo need on a fresh Debian 12 machine (CI has
# nothing installed by hand). Idempotent and silent when all is present.
#
# Usage: scripts/ensure-deps.sh [--skip-apt] [--skip-docker] [--skip-npm]
#   (or env LAB_SKIP_APT=1 / LAB_SKIP_DOCKER=1 / LAB_SKIP_NPM=1)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for arg in "$@"; do
  case "$arg" in
    --skip-apt) LAB_SKIP_APT=1 ;;
    --skip-docker) LAB_SKIP_DOCKER=1 ;;
    --skip-npm) LAB_SKIP_NPM=1 ;;
    *) echo "ensure-deps: unknown option $arg" >&2; exit 2 ;;
  esac
done
log() { echo "ensure-deps: $*" >&2; }

# openssh-server is deliberately absent: sshd lives in the test host image, and its
# postinst would start an sshd on the machine's port 22.
PACKAGES=(docker.io docker-compose debootstrap openssh-client ansible postgresql-15 pgbackrest iproute2 sudo util-linux age dpkg-dev time openssl python3 cron bind9-dnsutils)

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
  done
  [[ ${#missing[@]} == 0 ]] && return 0
  log "installing ${missing[*]}"
  # Keep postinsts from starting daemons (postgres on :5432, dockerd): tests start their own.
  local policy=/usr/sbin/policy-rc.d out rc=0
  [[ -e $policy ]] || { printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; trap 'rm -f "$policy"' EXIT; }
  out=$(mktemp)
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 \
      apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$out" 2>&1 || rc=$?
  [[ $rc == 0 ]] || { cat "$out" >&2; log "apt-get failed ($rc)"; }
  rm -f "$out"
  return "$rc"
}

start_docker() {
  docker info >/dev/null 2>&1 && return 0
  # No systemd here: run dockerd detached, unless one is already starting up.
  if ! pgrep -x dockerd >/dev/null; then
    log "starting dockerd (log: /var/log/dockerd.log)"
    setsid dockerd >>/var/log/dockerd.log 2>&1 </dev/null &
  fi
  local i
  for i in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  log "dockerd did not answer within 30 s; last lines of /var/log/dockerd.log:"
  tail -n 20 /var/log/dockerd.log >&2 || true
  return 1
}

npm_install() {
  # npm writes node_modules/.package-lock.json on every install: older than the lock = stale.
  local stamp="$ROOT/node_modules/.package-lock.json"
  if [[ ! -e $stamp || "$ROOT/package-lock.json" -nt $stamp ]]; then
    log "npm ci"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  # lab's own code as JavaScript (`npm ci` builds it too, as `prepare`): rebuilt when src/ changed.
  node "$ROOT/bin/build.mjs" --if-stale
}

[[ ${LAB_SKIP_APT:-0} == 1 ]] || install_packages
[[ ${LAB_SKIP_DOCKER:-0} == 1 ]] || start_docker
[[ ${LAB_SKIP_NPM:-0} == 1 ]] || npm_install
