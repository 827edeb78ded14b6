#!/usr/bin/env bash
# Builds lab-testhost-pg:bookworm (test/hosts/pg/Dockerfile): Debian 12's postgresql-15
# and pgbackrest (2.45), prometheus-node-exporter, dnsmasq and unattended-upgrades (roles dns, updates), from the machine's own mirror.
# Usage: test/hosts/pg-image.sh [--force]   (env: LAB_TESTHOST_PG_IMAGE, LAB_DEBIAN_MIRROR)
exec bash "$(dirname "${BASH_SOURCE[0]}")/derived-image.sh" pg "${LAB_TESTHOST_PG_IMAGE:-lab-testhost-pg:bookworm}" "postgresql-15 pgbackrest prometheus-node-exporter dnsmasq unattended-upgrades" "$@"
