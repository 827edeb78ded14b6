#!/bin/sh
# Serve /api/health and an index of the provisioning files (GF_SERVER_HTTP_ADDR/PORT like Grafana).
set -eu
W=/tmp/www
mkdir -p "$W"
cp -a /usr/share/grafana-standin/. "$W/"
{
  echo "<html><head><title>Grafana (stand-in)</title></head><body><h1>Grafana stand-in</h1>"
  echo "<p>Provisioned from /etc/grafana/provisioning:</p><pre>"
  find /etc/grafana/provisioning -type f 2>/dev/null | sort
  echo "</pre></body></html>"
} > "$W/index.html"
echo "grafana-standin listening on ${GF_SERVER_HTTP_ADDR:-0.0.0.0}:${GF_SERVER_HTTP_PORT:-3000}"
exec httpd -f -v -p "${GF_SERVER_HTTP_ADDR:-0.0.0.0}:${GF_SERVER_HTTP_PORT:-3000}" -h "$W"
