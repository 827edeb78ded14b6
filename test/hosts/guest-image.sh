#!/usr/bin/env bash
# Builds lab-testhost-guest:bookworm (test/hosts/guest/Dockerfile): the plain test host plus
# prometheus-node-exporter, from the machine's own mirror; the demo's VMs boot it.
# Usage: test/hosts/guest-image.sh [--force]   (env: LAB_TESTHOST_GUEST_IMAGE, LAB_DEBIAN_MIRROR)
exec bash "$(dirname "${BASH_SOURCE[0]}")/derived-image.sh" guest "${LAB_TESTHOST_GUEST_IMAGE:-lab-testhost-guest:bookworm}" "prometheus-node-exporter" "$@"
