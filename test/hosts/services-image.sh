#!/usr/bin/env bash
# Builds lab-testhost-services:bookworm (test/hosts/services/Dockerfile): the packages of
# the dns and updates roles (dnsmasq, unattended-upgrades, bsd-mailx, cron).
# Usage: test/hosts/services-image.sh [--force]   (env: LAB_TESTHOST_SERVICES_IMAGE, LAB_DEBIAN_MIRROR)
exec bash "$(dirname "${BASH_SOURCE[0]}")/derived-image.sh" services "${LAB_TESTHOST_SERVICES_IMAGE:-lab-testhost-services:bookworm}" "dnsmasq unattended-upgrades bsd-mailx cron" "$@"
