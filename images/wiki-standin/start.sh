#!/bin/sh
set -eu
mkdir -p /data/pages /srv/wiki
[ -f /data/pages/Home ] || printf 'Welcome to %s.\n' "${WIKI_TITLE:-the lab wiki}" > /data/pages/Home
echo ok > /srv/wiki/health
echo "wiki listening on ${WIKI_ADDR:-0.0.0.0}:${WIKI_PORT:-8081}"
exec httpd -f -v -p "${WIKI_ADDR:-0.0.0.0}:${WIKI_PORT:-8081}" -h /srv/wiki
